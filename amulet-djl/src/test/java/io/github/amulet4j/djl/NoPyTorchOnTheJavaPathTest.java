package io.github.amulet4j.djl;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The default CPU path (the pure-Java forward pass) generates without starting PyTorch: no libtorch is mapped into the
 * process. Each case runs in a child JVM, since other tests of this JVM start the engine. The engine kernel, as the
 * control, does map it (so the check can fail). The Java path's child leaves nothing in its temporary folder: neither
 * its model folder nor the native kernels' library, which is extracted there to be loaded.
 */
class NoPyTorchOnTheJavaPathTest {

    @TempDir
    Path tmp;

    private String run(String kernel) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-Dai.djl.offline=true",
                "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), NativeLibrariesMain.class.getName(), kernel)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    @Test
    void generatingOnTheJavaPathLoadsNoPyTorch() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs /proc/self/maps (Linux)");
        String java = run("auto");
        assertTrue(java.matches("(?s).*tokens=[1-9].*"), java);
        assertTrue(java.contains("pytorch=absent\n"), java);
        assertTrue(java.contains("model=" + tmp), java);
        try (java.util.stream.Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "left in the child's temporary folder");
        }
        String engine = run("engine");
        assertTrue(engine.matches("(?s).*tokens=[1-9].*"), engine);
        assertTrue(engine.contains("pytorch=loaded\n"), engine);
        try (java.util.stream.Stream<Path> left = Files.list(tmp)) {
            assertTrue(left.noneMatch(f -> f.getFileName().toString().startsWith("amulet-native-libs")),
                    "the engine child's model folder was left behind");
        }
    }
}
