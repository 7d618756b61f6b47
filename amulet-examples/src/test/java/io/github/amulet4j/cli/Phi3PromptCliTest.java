package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.tokenizer.Phi3TokenizerFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code amulet prompt} on a Phi-3.5-style folder (real chat template, SentencePiece tokenizer with Phi-3's special
 * tokens, no weights): the preference stream is the base stream with the preference as its system turn, or with
 * {@code --system} the system text followed by the preference; Phi-3.5's template writes no default system message.
 */
class Phi3PromptCliTest {

    @TempDir
    Path dir;

    static final String QUESTION = "What is the ozone layer?";

    @Test
    void promptShowsPhi35StreamsThatDifferByThePreferenceOnly() throws IOException {
        Path folder = Phi3TokenizerFolder.write(dir, "phi35");
        String turns = "<|user|>\n" + QUESTION + "<|end|>\n<|assistant|>\n";
        CliRun p = CliRun.run("prompt", "--model", folder.toString(), "--preference", "be brief", "--json", QUESTION);
        assertEquals(0, p.exitCode(), p::toString);
        JsonObject o = JsonParser.parseString(p.out()).getAsJsonObject();
        assertEquals(turns, o.getAsJsonObject("base").get("text").getAsString());
        assertEquals("<|system|>\nbe brief<|end|>\n" + turns, o.getAsJsonObject("preference").get("text").getAsString());
        assertFalse(o.has("template_default_system"), "Phi-3.5's template has no default system message");
        assertEquals(32010, o.getAsJsonObject("base").getAsJsonArray("token_ids").get(0).getAsInt());

        CliRun s = CliRun.run("prompt", "--model", folder.toString(), "--preference", "be brief",
                "--system", "You answer questions.", "--json", QUESTION);
        assertEquals(0, s.exitCode(), s::toString);
        JsonObject os = JsonParser.parseString(s.out()).getAsJsonObject();
        assertEquals("<|system|>\nYou answer questions.<|end|>\n" + turns,
                os.getAsJsonObject("base").get("text").getAsString());
        assertEquals("<|system|>\nYou answer questions. be brief<|end|>\n" + turns,
                os.getAsJsonObject("preference").get("text").getAsString());

        CliRun text = CliRun.run("prompt", "--model", folder.toString(), "--preference", "be brief", QUESTION);
        assertEquals(0, text.exitCode(), text::toString);
        assertTrue(text.out().contains("=== base stream") && text.out().contains("<|system|>\nbe brief<|end|>"),
                text::toString);
    }
}
