package io.github.amulet4j.djl.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** When the Java kernels can run, and what a JVM where they cannot says and does. */
class VectorSupportTest {

    @Test
    void reasonsNameWhatToChange() {
        assertNull(VectorSupport.reason(true, true, 17));
        String noModule = VectorSupport.reason(false, false, 17);
        assertTrue(noModule.contains(VectorSupport.JVM_OPTION), noModule);
        String newer = VectorSupport.reason(true, false, 21);
        assertTrue(newer.contains("JDK 21") && newer.contains("fromByteBuffer") && newer.contains("JDK 17, 18 or 19"),
                newer);
        // the test JVM (JDK 17-19 with the module, as the build runs it) has them
        if (Runtime.version().feature() < 20) {
            assertTrue(VectorSupport.available(), VectorSupport.unavailableReason());
        }
    }

    /** A JDK 20 or later installed beside this one (Debian's and Temurin's folders under /usr/lib/jvm), if any. */
    private static Optional<Path> newerJava() throws IOException {
        Path jvms = Path.of(System.getProperty("java.home")).getParent();
        if (jvms == null || !Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(jvms)) {
            return s.filter(p -> Files.isExecutable(p.resolve("bin/java")) && Files.isRegularFile(p.resolve("release")))
                    .filter(p -> feature(p) >= 20)
                    .max(Comparator.comparingInt(VectorSupportTest::feature))
                    .map(p -> p.resolve("bin/java"));
        }
    }

    private static int feature(Path jdk) {
        try {
            for (String line : Files.readAllLines(jdk.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    return Integer.parseInt(v.split("[.+-]")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /**
     * On a JDK without the buffer loads (20 and later) the model falls back to the engine with the module present,
     * refuses the Java kernels naming the reason, and its logits are right (seen to fail before: NoSuchMethodError
     * from the kernels on the first step). Runs where such a JDK is installed beside the test JVM.
     */
    @Test
    void aNewerJdkFallsBackToTheEngine() throws Exception {
        Optional<Path> java = newerJava();
        assumeTrue(java.isPresent(), "no JDK 20+ beside " + System.getProperty("java.home"));
        Process p = new ProcessBuilder(java.get().toString(), "--add-modules", "jdk.incubator.vector",
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), NoVectorApiMain.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("vector=false\n") && out.contains("auto=ENGINE\n") && out.contains("onHeap=false\n"), out);
        assertTrue(out.contains("java=refused: ") && out.contains("fromByteBuffer"), out);
        String diff = out.substring(out.indexOf("maxAbsDiff=") + "maxAbsDiff=".length()).lines().findFirst().orElseThrow();
        assertTrue(Float.parseFloat(diff) <= 1e-4f, out);
    }
}
