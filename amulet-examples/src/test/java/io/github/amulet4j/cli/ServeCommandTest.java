package io.github.amulet4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code amulet serve}: bad flags are usage errors (exit 2) naming the flag, before any model is loaded. */
class ServeCommandTest {

    @Test
    void badFlagsNameTheFlag() {
        String[][] cases = {
            {"--port", "70000"}, {"--port", "-1"}, {"--max-batch", "0"}, {"--max-queue", "-1"}, {"--api-key", " "}};
        for (String[] c : cases) {
            CliRun r = CliRun.run("serve", "--model", "/nonexistent/model", c[0], c[1]);
            assertEquals(AmuletCli.USAGE, r.exitCode(), r.toString());
            assertTrue(r.err().contains(c[0]), r.toString());
        }
        CliRun help = CliRun.run("serve", "--help");
        assertEquals(AmuletCli.OK, help.exitCode());
        assertTrue(help.out().contains("--max-batch") && help.out().contains("AMULET_API_KEY"), help.out());
    }
}
