package io.github.amulet4j.spark;

import com.google.gson.Gson;
import io.github.amulet4j.eval.EvalPlan;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the driver ships to a cluster's executors: its class path but Spark's jars, class folders as jars. */
class ExecutorJarsTest {

    @TempDir
    Path dir;

    @Test
    void theTestClassPathShipsAmuletAndItsLibrariesButNotSpark() throws IOException {
        Set<String> spark = ExecutorJars.sparkJarNames();
        assertTrue(spark.contains(ExecutorJars.codeSource(SparkContext.class).getFileName().toString()), spark.toString());
        assertTrue(spark.contains(ExecutorJars.codeSource(scala.Option.class).getFileName().toString()), spark.toString());
        try (ExecutorJars jars = ExecutorJars.ofThisJvm()) {
            Set<String> names = new HashSet<>();
            for (Path p : jars.jars()) {
                assertTrue(Files.isRegularFile(p) && p.toString().endsWith(".jar"), p.toString());
                assertTrue(names.add(p.getFileName().toString()), "one jar per name: " + p);
                assertFalse(spark.contains(p.getFileName().toString()), "a jar of Spark is shipped: " + p);
            }
            for (Class<?> needed : List.of(EvalPlan.class, ExecutorJars.class, Gson.class, ai.djl.Device.class)) {
                assertTrue(holds(jars.jars(), needed), needed + " is not in " + jars.jars());
            }
            assertFalse(holds(jars.jars(), SparkContext.class));
            assertEquals(jars.jars().size(), jars.sparkJars().split(",").length);
            assertTrue(jars.sparkJars().startsWith("file:"), jars.sparkJars());
        }
    }

    @Test
    void classFoldersArePackedWildcardsExpandedAndSparkJarsLeftOut() throws IOException {
        Path classes = dir.resolve("module").resolve("target").resolve("classes");
        Files.createDirectories(classes.resolve("a/b"));
        Files.writeString(classes.resolve("a/b/C.class"), "not really a class");
        Files.createDirectories(classes.resolve("META-INF/services"));
        Files.writeString(classes.resolve("META-INF/services/x.Y"), "a.b.C\n");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Path mine = jar(lib.resolve("mine-1.0.jar"));
        Path sparks = jar(lib.resolve("spark-thing-3.5.7.jar"));
        Path other = Files.createDirectories(dir.resolve("other"));
        Path shadowed = jar(other.resolve("mine-1.0.jar"));
        String classPath = String.join(File.pathSeparator, classes.toString(), empty.toString(), "",
                dir.resolve("missing.jar").toString(), lib + File.separator + "*", shadowed.toString());

        ExecutorJars jars = ExecutorJars.of(classPath, Set.of("spark-thing-3.5.7.jar"));
        Path packed;
        try {
            assertEquals(2, jars.jars().size(), jars.jars().toString());
            packed = jars.jars().get(0);
            assertEquals("module-target-classes.jar", packed.getFileName().toString());
            try (JarFile f = new JarFile(packed.toFile())) {
                assertNotNull(f.getEntry("a/b/C.class"));
                assertNotNull(f.getEntry("META-INF/services/x.Y"));
                assertNotNull(f.getManifest());
            }
            assertEquals(mine, jars.jars().get(1)); // the first of two of one name, as the class path loads it
            assertFalse(jars.jars().contains(sparks));
        } finally {
            jars.close();
        }
        assertFalse(Files.exists(packed), "close() deletes the packed jars");
    }

    @Test
    void onlyClusterMastersWithoutSparkJarsShipTheClassPath() {
        for (String local : List.of("local", "local[2]", "local[*]", "local[2,4]", " local[3] ")) {
            assertFalse(SparkEvalRunner.shipsJars(local, Map.of()), local);
        }
        for (String cluster : List.of("spark://h:7077", "yarn", "k8s://https://h:443", "local-cluster[2,1,1024]")) {
            assertTrue(SparkEvalRunner.shipsJars(cluster, Map.of()), cluster);
            assertFalse(SparkEvalRunner.shipsJars(cluster, Map.of("spark.jars", "/my/app.jar")), cluster);
        }
    }

    private static boolean holds(List<Path> jars, Class<?> c) throws IOException {
        String entry = c.getName().replace('.', '/') + ".class";
        for (Path p : jars) {
            try (JarFile f = new JarFile(p.toFile())) {
                if (f.getEntry(entry) != null) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Path jar(Path p) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(p))) {
            out.putNextEntry(new java.util.jar.JarEntry("x/"));
            out.closeEntry();
        }
        return p;
    }
}
