package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.GemmaPromptFolder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code amulet prompt} on Gemma folders (no weights needed) with the real chat templates of gemma-2-2b-it (raises on
 * a system role) and gemma-3-1b-it (folds it into the first user turn): both show the two streams differing by the
 * preference only, the system text and the preference in front of the question.
 */
class GemmaPromptCliTest {

    static final String Q = "What is the ozone layer?";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "gemma3 {0}")
    @ValueSource(booleans = {false, true})
    void promptShowsBothStreams(boolean gemma3) throws IOException {
        Path folder = GemmaPromptFolder.write(dir.resolve("gemma"), gemma3);
        String turn = "<bos><start_of_turn>user\n";
        String end = "<end_of_turn>\n<start_of_turn>model\n";
        CliRun p = CliRun.run("prompt", "--model", folder.toString(), "--preference", "be brief", "--system",
                "You answer questions.", "--json", Q);
        assertEquals(0, p.exitCode(), p::toString);
        JsonObject o = JsonParser.parseString(p.out()).getAsJsonObject();
        assertEquals(turn + "You answer questions.\n\n" + Q + end, o.getAsJsonObject("base").get("text").getAsString());
        assertEquals(turn + "You answer questions. be brief\n\n" + Q + end,
                o.getAsJsonObject("preference").get("text").getAsString());
        assertEquals(GemmaPromptFolder.BOS, o.getAsJsonObject("base").getAsJsonArray("token_ids").get(0).getAsInt());
        assertFalse(o.has("template_default_system"), o.toString());

        CliRun text = CliRun.run("prompt", "--model", folder.toString(), "--preference", "be brief", Q);
        assertEquals(0, text.exitCode(), text::toString);
        assertTrue(text.out().contains("=== base stream") && text.out().contains("=== preference stream"), text::toString);
        assertTrue(text.out().contains("be brief\n\n" + Q) || text.out().contains("be brief" + System.lineSeparator()),
                text::toString);
    }
}
