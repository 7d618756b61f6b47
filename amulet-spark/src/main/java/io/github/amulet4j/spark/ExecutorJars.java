package io.github.amulet4j.spark;

import io.github.amulet4j.eval.EvalPlan;
import org.apache.spark.SparkContext;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The jars a driver ships to the executors of a cluster ({@code spark.jars}): the entries of its class path (amulet's
 * modules and their runtime dependencies, the command line's too) but Spark's own jars, which the cluster provides.
 * Spark's jars are those of {@value #LIST} (Spark and its dependencies as this module's build resolved them, the jars
 * the launcher copies to {@code amulet-spark/target/lib}), the jar of Spark's core, and the other jars of its folder
 * when that folder holds no amulet jar (a Spark distribution's {@code jars/}). A class folder (a build's
 * {@code target/classes}) is packed into a jar in a temporary folder, deleted by {@link #close()}. Jars are named
 * once: Spark serves the executors one file per name, so the first of two jars of one name is shipped, as the class
 * path would load it first.
 */
final class ExecutorJars implements AutoCloseable {

    /** The resource, next to this class, that names Spark's jars (written by the build). */
    static final String LIST = "spark-jars.txt";

    private final List<Path> jars;
    private final Path packed;

    private ExecutorJars(List<Path> jars, Path packed) {
        this.jars = List.copyOf(jars);
        this.packed = packed;
    }

    /** The jars of this JVM's class path ({@code java.class.path}) that executors need. */
    static ExecutorJars ofThisJvm() throws IOException {
        return of(System.getProperty("java.class.path", ""), sparkJarNames());
    }

    /**
     * The jars of {@code classPath} (entries separated by {@link File#pathSeparator}) that executors need.
     *
     * @param sparkJarNames file names of Spark's jars ({@link #sparkJarNames()})
     */
    static ExecutorJars of(String classPath, Set<String> sparkJarNames) throws IOException {
        Path sparkCore = codeSource(SparkContext.class);
        Path sparkFolder = sparkCore != null && Files.isRegularFile(sparkCore) ? sparkCore.getParent() : null;
        if (sparkFolder != null && (sparkFolder.equals(folderOf(codeSource(ExecutorJars.class)))
                || sparkFolder.equals(folderOf(codeSource(EvalPlan.class))))) {
            sparkFolder = null; // one folder of every jar: only Spark's named jars are Spark's
        }
        Map<String, Path> byName = new LinkedHashMap<>();
        Path packed = null;
        try {
            for (Path entry : entries(classPath)) {
                if (Files.isDirectory(entry)) {
                    if (packed == null) {
                        packed = Files.createTempDirectory("amulet-spark-jars");
                    }
                    Path jar = pack(entry, packed, byName.keySet());
                    if (jar != null) {
                        byName.put(jar.getFileName().toString(), jar);
                    }
                    continue;
                }
                String name = entry.getFileName().toString();
                boolean spark = sparkJarNames.contains(name) || entry.equals(sparkCore)
                        || entry.getParent().equals(sparkFolder);
                if (Files.isRegularFile(entry) && name.toLowerCase(Locale.ROOT).endsWith(".jar") && !spark) {
                    byName.putIfAbsent(name, entry);
                }
            }
        } catch (IOException | RuntimeException e) {
            delete(packed);
            throw e;
        }
        return new ExecutorJars(new ArrayList<>(byName.values()), packed);
    }

    /** The file names of Spark's jars ({@value #LIST}); empty when the build did not write it. */
    static Set<String> sparkJarNames() throws IOException {
        Set<String> names = new HashSet<>();
        try (InputStream in = ExecutorJars.class.getResourceAsStream(LIST)) {
            if (in == null) {
                return names;
            }
            for (String item : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("[,\\r\\n]")) {
                String name = item.strip();
                int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
                name = name.substring(slash + 1);
                if (!name.isEmpty()) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    /** The jars, in class path order. */
    List<Path> jars() {
        return jars;
    }

    /** {@code spark.jars}: the jars' URIs, comma-separated. */
    String sparkJars() {
        return jars.stream().map(p -> p.toUri().toString()).collect(Collectors.joining(","));
    }

    /** The bytes of the jars. */
    long bytes() {
        long sum = 0;
        for (Path p : jars) {
            try {
                sum += Files.size(p);
            } catch (IOException e) {
                // gone meanwhile: Spark reports it when it adds the jar
            }
        }
        return sum;
    }

    /** Deletes the jars packed from class folders. */
    @Override
    public void close() {
        delete(packed);
    }

    /** The class path's entries that exist, absolute; a {@code folder/*} entry is the folder's jars. */
    private static List<Path> entries(String classPath) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String e : classPath.split(File.pathSeparator)) {
            if (e.isBlank()) {
                continue;
            }
            if (e.endsWith("*")) {
                Path folder = Path.of(e.substring(0, e.length() - 1).isEmpty() ? "." : e.substring(0, e.length() - 1));
                if (Files.isDirectory(folder)) {
                    try (Stream<Path> s = Files.list(folder)) {
                        s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jar")).sorted()
                                .forEach(p -> out.add(p.toAbsolutePath().normalize()));
                    }
                }
                continue;
            }
            Path p = Path.of(e).toAbsolutePath().normalize();
            if (Files.exists(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * A class folder packed into a jar in {@code into}, named after the folder and its parents
     * ({@code amulet-spark-target-classes.jar}), or null when it holds no file.
     */
    private static Path pack(Path folder, Path into, Set<String> taken) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(folder)) {
            files = s.filter(Files::isRegularFile).sorted(Comparator.comparing(p -> folder.relativize(p).toString()))
                    .toList();
        }
        if (files.isEmpty()) {
            return null;
        }
        StringBuilder base = new StringBuilder();
        int parts = folder.getNameCount();
        for (int i = Math.max(0, parts - 3); i < parts; i++) {
            base.append(base.length() == 0 ? "" : "-").append(folder.getName(i));
        }
        String stem = base.toString().replaceAll("[^A-Za-z0-9._-]", "_");
        String name = stem + ".jar";
        for (int n = 2; taken.contains(name) || Files.exists(into.resolve(name)); n++) {
            name = stem + "-" + n + ".jar";
        }
        Path jar = into.resolve(name);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
        Set<String> folders = new HashSet<>();
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(o, manifest)) {
            for (Path f : files) {
                String entry = folder.relativize(f).toString().replace(File.separatorChar, '/');
                if (entry.equalsIgnoreCase("META-INF/MANIFEST.MF")) {
                    continue;
                }
                for (int slash = entry.indexOf('/'); slash >= 0; slash = entry.indexOf('/', slash + 1)) {
                    String dir = entry.substring(0, slash + 1);
                    if (folders.add(dir) && !dir.equalsIgnoreCase("META-INF/")) {
                        out.putNextEntry(new JarEntry(dir));
                        out.closeEntry();
                    }
                }
                out.putNextEntry(new JarEntry(entry));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /** Where a class was loaded from (a jar or a class folder), or null when unknown. */
    static Path codeSource(Class<?> c) {
        CodeSource source = c.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null || !"file".equals(source.getLocation().getProtocol())) {
            return null;
        }
        try {
            return Path.of(source.getLocation().toURI()).toAbsolutePath().normalize();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    private static Path folderOf(Path p) {
        return p == null || !Files.isRegularFile(p) ? null : p.getParent();
    }

    private static void delete(Path folder) {
        if (folder == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            // a temporary folder: what is left goes with the system's cleanup
        }
    }
}
