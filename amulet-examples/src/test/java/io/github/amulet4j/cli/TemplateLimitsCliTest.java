package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model whose chat template never ends (three nested loops of 100,000 that print nothing, from issue 25): the
 * command fails with one line naming the template file and the limit in the template's own words (no flag names put
 * into it), and no stack trace.
 */
class TemplateLimitsCliTest {

    @TempDir
    Path dir;

    @Test
    void aTemplateThatRunsForeverFailsWithOneLineNamingItsFileAndTheLimit() throws Exception {
        Path model = dir.resolve("hostile");
        assertEquals(0, CliRun.run("random-model", "--shape", "tiny-qwen2", "--out", model.toString()).exitCode());
        Path config = model.resolve("tokenizer_config.json");
        JsonObject o = JsonParser.parseString(Files.readString(config, StandardCharsets.UTF_8)).getAsJsonObject();
        o.addProperty("chat_template", "{% for a in range(100000) %}{% for b in range(100000) %}"
                + "{% for c in range(100000) %}{% endfor %}{% endfor %}{% endfor %}x");
        Files.writeString(config, o.toString(), StandardCharsets.UTF_8);
        CliRun r = CliRun.run("prompt", "--model", model.toString(), "--preference", "concise", "What is rain?");
        assertEquals(AmuletCli.FAILURE, r.exitCode(), r.toString());
        assertTrue(r.err().contains(config + ":1: step limit") && r.err().contains("loop iterations"), r.err());
        assertFalse(r.err().contains("--iterations"), "no flag name put into a template's message: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }
}
