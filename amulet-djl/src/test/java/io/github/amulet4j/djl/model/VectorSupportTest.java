package io.github.amulet4j.djl.model;

import io.github.amulet4j.transformer.VectorSupport;

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
        assertNull(VectorSupport.reason(true, true));
        String noModule = VectorSupport.reason(false, true);
        assertTrue(noModule.contains(VectorSupport.JVM_OPTION), noModule);
        String bigEndian = VectorSupport.reason(true, false);
        assertTrue(bigEndian.contains("big-endian"), bigEndian);
        // the test JVM (with the module, as the build runs it, on x86-64 or AArch64) has them
        assertTrue(VectorSupport.available(), VectorSupport.unavailableReason());
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
     * On JDK 20 and later (whose Vector API has no loads from byte buffers, which the kernels once used: they died
     * with NoSuchMethodError on the first step, and then fell back to the engine) the Java kernels run, chosen by
     * default, and a tiny model's logits in every weight format match the naive reference. Runs where such a JDK is
     * installed beside the test JVM.
     */
    @Test
    void aNewerJdkRunsTheJavaKernels() throws Exception {
        Optional<Path> java = newerJava();
        assumeTrue(java.isPresent(), "no JDK 20+ beside " + System.getProperty("java.home"));
        Process p = new ProcessBuilder(java.get().toString(), "--add-modules", "jdk.incubator.vector",
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), NoVectorApiMain.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("vector=true\n") && out.contains("auto=JAVA\n") && out.contains("java=accepted\n"), out);
        for (String format : new String[] {"F32", "BF16", "F16", "Q8_0", "Q4_0"}) {
            String key = "\n" + format + " onHeap=true maxAbsDiff=";
            int at = out.indexOf(key);
            assertTrue(at >= 0, out);
            float diff = Float.parseFloat(out.substring(at + key.length()).lines().findFirst().orElseThrow());
            // the same distance from the float32 reference as this JVM's kernels give, to rounding
            float here = NoVectorApiMain.formatDiff(RuntimeOptions.Weights.parse(format));
            assertEquals(here, diff, 1e-5f + 1e-3f * here, format + ": " + out);
        }
    }
}
