package io.github.amulet4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code amulet serve}: bad flags are usage errors (exit 2) naming the flag, before any model is loaded. */
class ServeCommandTest {

    @Test
    void badFlagsNameTheFlag() {
        String[][] cases = {
            {"--port", "70000"}, {"--port", "-1"}, {"--max-batch", "0"}, {"--max-queue", "-1"}, {"--api-key", " "},
            {"--max-connections", "0"}, {"--read-timeout", "0"}, {"--write-timeout", "0"}, {"--shutdown-timeout", "-1"},
            {"--api-key-file", "/nonexistent/key"}};
        for (String[] c : cases) {
            CliRun r = CliRun.run("serve", "--model", "/nonexistent/model", c[0], c[1]);
            assertEquals(AmuletCli.USAGE, r.exitCode(), r.toString());
            assertTrue(r.err().contains(c[0]), r.toString());
        }
        CliRun help = CliRun.run("serve", "--help");
        assertEquals(AmuletCli.OK, help.exitCode());
        assertTrue(help.out().contains("--max-batch") && help.out().contains("AMULET_API_KEY"), help.out());
        assertTrue(help.out().contains("0: no waiting"), help.out());
    }

    @Test
    void theKeyComesFromTheEnvironmentOrAFileAndOnTheCommandLineIsWarnedAbout(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        PrintWriter w = new PrintWriter(err);
        assertEquals("from-env", ServeCommand.apiKey(null, null, Map.of("AMULET_API_KEY", "from-env"), w));
        Path file = dir.resolve("key");
        Files.writeString(file, "  from-file \nsecond line\n");
        assertEquals("from-file", ServeCommand.apiKey(null, file, Map.of("AMULET_API_KEY", "from-env"), w));
        assertEquals("", err.toString(), "no warning for the environment or a file");
        assertEquals(null, ServeCommand.apiKey(null, null, Map.of(), w));
        assertEquals("argv", ServeCommand.apiKey("argv", null, Map.of(), w));
        assertTrue(err.toString().contains("visible") && err.toString().contains("--api-key-file"), err.toString());
        Files.writeString(file, "\n");
        UsageException empty = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> ServeCommand.apiKey(null, file, Map.of(), w));
        assertTrue(empty.getMessage().startsWith("--api-key-file"), empty.getMessage());
        UsageException both = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> ServeCommand.apiKey("k", file, Map.of(), w));
        assertTrue(both.getMessage().contains("--api-key-file"), both.getMessage());
    }
}
