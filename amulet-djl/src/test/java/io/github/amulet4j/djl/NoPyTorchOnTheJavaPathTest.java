package io.github.amulet4j.djl;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The default CPU path (the pure-Java forward pass) generates without starting PyTorch: no libtorch is mapped into the
 * process. Each case runs in a child JVM, since other tests of this JVM start the engine. The engine kernel, as the
 * control, does map it (so the check can fail).
 */
class NoPyTorchOnTheJavaPathTest {

    private static String run(String kernel) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-Dai.djl.offline=true",
                "-cp", System.getProperty("java.class.path"), NativeLibrariesMain.class.getName(), kernel)
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
        String engine = run("engine");
        assertTrue(engine.matches("(?s).*tokens=[1-9].*"), engine);
        assertTrue(engine.contains("pytorch=loaded\n"), engine);
    }
}
