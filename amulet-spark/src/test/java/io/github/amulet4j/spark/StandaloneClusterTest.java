package io.github.amulet4j.spark;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.cli.AmuletCli;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code amulet eval --spark spark://...} on a Spark standalone cluster of this machine: a Master and a Worker (one
 * core) started as child JVMs from the jars of the test class path but amulet's and its own libraries' (DJL, the
 * PyTorch natives, Gson, JNA), as from a Spark distribution's {@code jars/}, and an executor that the Worker starts
 * from the same jars. The driver
 * is this JVM, through the command line's entry point: it must ship amulet's jars to the executor ({@code spark.jars})
 * or every task fails to read its items ({@code ClassNotFoundException: io.github.amulet4j.spark.EvalItem}). The
 * rows must be those of a plain {@code amulet eval}, every key once.
 */
class StandaloneClusterTest {

    /** What a Spark distribution does not hold: amulet, DJL, PyTorch's natives and JNI library, Gson, JNA. */
    private static final List<String> NOT_SPARK = List.of("io/github/amulet4j/", "ai/djl/", "native/lib/", "jnilib/",
            "com/google/gson/", "com/sun/jna/");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void rowsOfAStandaloneClusterAreEvalRows() throws Exception {
        Path model = dir.resolve("tiny");
        RandomModelFolder.write(model, RandomModelFolder.Shape.TINY_QWEN2, 11, SafetensorsDtype.F32);
        Path dataset = dir.resolve("questions.json");
        StringBuilder array = new StringBuilder("[");
        for (int i = 0; i < 3; i++) {
            array.append(i > 0 ? "," : "").append("{\"index\": ").append(20 + i).append(", \"question\": \"Cluster question ")
                    .append(i).append("?\"}");
        }
        Files.writeString(dataset, array.append("]").toString());
        Path prefs = dir.resolve("prefs.json");
        Files.writeString(prefs, "{\"brief\": \"Answer in five words.\"}");
        List<String> common = List.of("eval", "--model", model.toString(), "--dataset", dataset.toString(),
                "--methods", "base,pref,amulet", "--preferences", "concise", "--preference-file", prefs.toString(),
                "--max-new-tokens", "3", "--iterations", "3", "--batch", "2", "--no-progress");

        Path evalOut = dir.resolve("eval.jsonl");
        Run local = run(common, "--out", evalOut.toString());
        assertEquals(0, local.code(), local.toString());
        Map<String, JsonObject> expected = byKey(Files.readAllLines(evalOut));
        assertEquals(3 * 3 * 2, expected.size());

        try (Cluster cluster = Cluster.start(dir.resolve("cluster"))) {
            Path out = dir.resolve("cluster-out");
            Run r = run(common, "--out", out.toString(), "--spark", cluster.master, "--partitions", "2",
                    "--spark-conf", "spark.driver.host=127.0.0.1", "--spark-conf", "spark.driver.bindAddress=127.0.0.1",
                    "--spark-conf", "spark.ui.enabled=false", "--spark-conf", "spark.executor.memory=640m",
                    "--spark-conf", "spark.executor.extraJavaOptions=--add-modules jdk.incubator.vector"
                            + " -Dai.djl.offline=true");
            assertEquals(0, r.code(), () -> r + cluster.logs());
            assertTrue(r.err().contains("to the executors (spark.jars)"), r.err());
            assertTrue(r.err().contains("eval: 18 new rows, 18 rows in"), r.err());
            List<String> lines = new ArrayList<>();
            try (Stream<Path> parts = Files.list(out)) {
                for (Path p : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                    lines.addAll(Files.readAllLines(p));
                }
            }
            Map<String, JsonObject> got = byKey(lines);
            assertEquals(lines.stream().filter(l -> !l.isBlank()).count(), got.size(), "a key is written twice");
            assertEquals(expected.keySet(), got.keySet());
            for (Map.Entry<String, JsonObject> e : expected.entrySet()) {
                assertEquals(comparable(e.getValue()), comparable(got.get(e.getKey())), e.getKey());
            }
        }
    }

    /** A standalone Master and one Worker (1 core) on 127.0.0.1, child JVMs of Spark's jars only. */
    private static final class Cluster implements AutoCloseable {
        final String master;
        private final Path root;
        private final List<Process> processes = new ArrayList<>();

        private Cluster(Path root, String master) {
            this.root = root;
            this.master = master;
        }

        static Cluster start(Path root) throws Exception {
            Path jars = Files.createDirectories(root.resolve("spark-home").resolve("jars"));
            Set<String> names = new HashSet<>();
            List<String> classPath = new ArrayList<>();
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path jar = Path.of(entry).toAbsolutePath();
                if (Files.isRegularFile(jar) && jar.toString().endsWith(".jar") && !notSpark(jar)
                        && names.add(jar.getFileName().toString())) {
                    Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar);
                    classPath.add(jars.resolve(jar.getFileName()).toString());
                }
            }
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Cluster c = new Cluster(root, "spark://127.0.0.1:" + port);
            try {
                c.launch("master", classPath, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                        "--port", String.valueOf(port), "--webui-port", "0");
                c.launch("worker", classPath, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                        "--cores", "1", "--memory", "1g", "--webui-port", "0", "--work-dir",
                        Files.createDirectories(root.resolve("work")).toString(), c.master);
                c.awaitLog("worker", "Successfully registered with master", 90);
            } catch (Exception | Error e) {
                c.close();
                throw e;
            }
            return c;
        }

        private static boolean notSpark(Path jar) throws IOException {
            try (JarFile f = new JarFile(jar.toFile())) {
                return f.stream().anyMatch(e -> NOT_SPARK.stream().anyMatch(e.getName()::startsWith));
            }
        }

        private void launch(String name, List<String> classPath, String mainClass, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", String.join(File.pathSeparator, classPath)));
            // the add-opens flags Spark needs on Java 17, as this JVM got them
            for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (a.startsWith("--add-opens") || a.equals("-XX:+IgnoreUnrecognizedVMOptions")
                        || a.startsWith("-Djdk.reflect.useDirectMethodHandle")) {
                    cmd.add(a);
                }
            }
            cmd.add(mainClass);
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(root.resolve(name + ".log").toFile());
            Map<String, String> env = pb.environment();
            env.keySet().removeIf(k -> k.startsWith("SPARK_"));
            env.put("SPARK_HOME", root.resolve("spark-home").toString());
            env.put("SPARK_SCALA_VERSION", "2.13");
            env.put("SPARK_LOCAL_IP", "127.0.0.1");
            processes.add(pb.start());
        }

        private void awaitLog(String name, String line, int seconds) throws Exception {
            Path log = root.resolve(name + ".log");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(line)) {
                    return;
                }
                if (processes.stream().anyMatch(p -> !p.isAlive())) {
                    break;
                }
                Thread.sleep(200);
            }
            fail("the " + name + " did not log '" + line + "' within " + seconds + " s" + logs());
        }

        /** The logs of the master, the worker and the executors. */
        String logs() {
            StringBuilder sb = new StringBuilder();
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.filter(p -> p.getFileName().toString().matches(".*\\.log|stderr")).toList()) {
                    String text = Files.readString(p, StandardCharsets.UTF_8);
                    sb.append("\n---- ").append(root.relativize(p)).append(" (last 6,000 characters)\n")
                            .append(text.substring(Math.max(0, text.length() - 6000)));
                }
            } catch (IOException e) {
                sb.append("\n(logs unreadable: ").append(e).append(')');
            }
            return sb.toString();
        }

        @Override
        public void close() throws InterruptedException, IOException {
            for (int i = processes.size() - 1; i >= 0; i--) { // the worker first: it stops its executors
                Process p = processes.get(i);
                p.destroy();
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            }
            // the links to the jars, before the temporary folder goes (which would warn about each)
            try (Stream<Path> links = Files.list(root.resolve("spark-home").resolve("jars"))) {
                for (Path link : links.toList()) {
                    Files.delete(link);
                }
            }
        }
    }

    private static JsonObject comparable(JsonObject row) {
        JsonObject o = row.deepCopy();
        o.remove("seconds");
        o.remove("tokens_per_second");
        o.remove("batch");
        return o;
    }

    private static Map<String, JsonObject> byKey(List<String> lines) {
        Map<String, JsonObject> out = new HashMap<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            out.put(o.get("index").getAsInt() + "/" + o.get("method").getAsString() + "/"
                    + o.get("preference").getAsString(), o);
        }
        assertFalse(out.isEmpty());
        return out;
    }

    record Run(int code, String out, String err) {
    }

    private static Run run(List<String> common, String... extra) {
        List<String> args = new ArrayList<>(common);
        args.addAll(List.of(extra));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmuletCli.execute(args.toArray(String[]::new), new StringReader(""), o, e);
        }
        return new Run(code, out.toString(), err.toString());
    }
}
