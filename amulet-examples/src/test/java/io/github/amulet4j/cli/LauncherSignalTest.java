package io.github.amulet4j.cli;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@code amulet} launcher as systemd, Docker or a supervisor runs it: {@code amulet serve} started as a process,
 * then SIGTERM to that process. The JVM must get the signal (the launcher {@code exec}s it), stop gracefully and
 * exit 0, and the port must be free. The launcher runs from a copy whose command-line jar is a manifest naming this
 * test's class path, so it starts the code under test and never builds.
 */
class LauncherSignalTest {

    @Test
    void sigtermToTheLauncherStopsTheServerWithExitStatusZeroAndFreesThePort(@TempDir Path dir) throws Exception {
        Path launcher = Path.of("..", "amulet").toAbsolutePath().normalize();
        assumeTrue(Files.isRegularFile(launcher), "the launcher is beside the modules");
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")) && Files.isExecutable(Path.of("/usr/bin/perl")),
                "bash and perl (the launcher's stderr filter) are needed");
        Path root = dir.resolve("root");
        Path target = Files.createDirectories(root.resolve("amulet-examples").resolve("target"));
        Files.createDirectories(target.resolve("lib"));
        Files.copy(launcher, root.resolve("amulet"), StandardCopyOption.COPY_ATTRIBUTES);
        writeClassPathJar(target.resolve("amulet-examples.jar"));
        Path model = dir.resolve("model");
        RandomModelFolder.write(model, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);

        ProcessBuilder pb = new ProcessBuilder("/bin/bash", root.resolve("amulet").toString(), "serve", "--model",
                model.toString(), "--port", "0", "--shutdown-timeout", "5");
        pb.environment().put("AMULET_JAVA_OPTS", "-Xmx512m");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Pattern serving = Pattern.compile("at http://127\\.0\\.0\\.1:(\\d+)");
            StringBuilder log = new StringBuilder();
            Integer port = null;
            String line;
            while (port == null && (line = out.readLine()) != null) {
                log.append(line).append('\n');
                Matcher m = serving.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertNotNull(port, "the server started:\n" + log);
            Thread drain = new Thread(() -> {
                try {
                    out.transferTo(java.io.Writer.nullWriter());
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            drain.setDaemon(true);
            drain.start();
            long t0 = System.nanoTime();
            p.destroy(); // SIGTERM to the launcher's process
            int timeout = 5 + 10;
            assertTrue(p.waitFor(timeout, TimeUnit.SECONDS), "the launcher ended within " + timeout + " s");
            assertEquals(0, p.exitValue(), "exit status of a gracefully stopped idle server");
            System.out.printf("amulet serve stopped %d ms after SIGTERM, exit status %d%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), p.exitValue());
            // the JVM is gone with it: the port is free
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            IOException last = null;
            while (System.nanoTime() < until) {
                try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                    last = null;
                    break;
                } catch (IOException e) {
                    last = e;
                    Thread.sleep(50);
                }
            }
            assertEquals(null, last, "port " + port + " is free after the launcher ended");
            assertTrue(p.descendants().noneMatch(ProcessHandle::isAlive), "no process of the launcher is left");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** A jar holding only a manifest whose Class-Path is this JVM's class path (absolute file URLs). */
    private static void writeClassPathJar(Path jar) throws IOException {
        StringBuilder cp = new StringBuilder();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                cp.append(Path.of(entry).toAbsolutePath().toUri()).append(' ');
            }
        }
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, cp.toString().trim());
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, m)) {
            j.flush();
        }
        // the copy's sources are none: the launcher sees nothing newer than the jar and does not build
        assertTrue(List.of(jar.getParent().toFile().list()).contains("amulet-examples.jar"));
    }
}
