package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.formats.tokenizer.GenerationDefaults;
import io.github.amulet4j.formats.tokenizer.TokenizerConfig;
import io.github.amulet4j.formats.tokenizer.TokenizerFormatException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerConfigTest {

    @TempDir
    Path dir;

    @Test
    void stringTemplateAndAddedTokenObjects() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"add_bos_token": true, "add_eos_token": false,
                 "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>", "pad_token": null, "unk_token": {"content": "<unk>"},
                 "chat_template": "{{ bos_token }}hi", "model_max_length": 1000000000000000019884624838656}""");
        TokenizerConfig c = TokenizerConfig.readFolder(dir);
        assertEquals("{{ bos_token }}hi", c.chatTemplate());
        assertEquals("<s>", c.bosToken());
        assertEquals("</s>", c.eosToken());
        assertNull(c.padToken());
        assertEquals("<unk>", c.unkToken());
        assertTrue(c.addBosToken());
        assertFalse(c.addEosToken());
        assertEquals(Long.MAX_VALUE, c.modelMaxLength());
    }

    @Test
    void namedTemplatesUseDefault() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
                 "model_max_length": 4096}""");
        TokenizerConfig c = TokenizerConfig.readFolder(dir);
        assertEquals("D", c.chatTemplate());
        assertEquals("T", c.chatTemplate("tool_use"));
        assertEquals(4096L, c.modelMaxLength());
        assertNull(c.addBosToken());
    }

    @Test
    void jinjaFileReplacesTemplate() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"old\", \"eos_token\": \"<e>\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "new {{ messages }}");
        TokenizerConfig c = TokenizerConfig.readFolder(dir);
        assertEquals("new {{ messages }}", c.chatTemplate());
        assertEquals("<e>", c.eosToken());
        Files.delete(dir.resolve("tokenizer_config.json"));
        assertEquals("new {{ messages }}", TokenizerConfig.readFolder(dir).chatTemplate());
        Files.delete(dir.resolve("chat_template.jinja"));
        assertNull(TokenizerConfig.readFolder(dir).chatTemplate());
    }

    @Test
    void badFieldsNameFileAndField() throws IOException {
        Path f = dir.resolve("tokenizer_config.json");
        for (String bad : List.of("{\"chat_template\": 5}", "{\"bos_token\": 3}", "{\"add_bos_token\": \"yes\"}",
                "{\"chat_template\": [{\"name\": \"x\"}]}", "[1]", "{oops")) {
            Files.writeString(f, bad);
            TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> TokenizerConfig.readFolder(dir), bad);
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        }
        Files.writeString(f, "{\"add_bos_token\": \"yes\"}");
        assertTrue(assertThrows(TokenizerFormatException.class, () -> TokenizerConfig.read(f))
                .getMessage().contains("add_bos_token"));
    }

    @Test
    void generationDefaults() throws IOException {
        assertEquals(GenerationDefaults.none(), GenerationDefaults.readFolder(dir));
        Path f = dir.resolve("generation_config.json");
        Files.writeString(f, """
                {"bos_token_id": 128000, "eos_token_id": [128001, 128009], "do_sample": true,
                 "temperature": 0.6, "top_p": 0.9, "top_k": 20, "max_new_tokens": 256, "transformers_version": "4.45"}""");
        GenerationDefaults g = GenerationDefaults.readFolder(dir);
        assertEquals(List.of(128001, 128009), g.eosTokenIds());
        assertEquals(128000, g.bosTokenId());
        assertNull(g.padTokenId());
        assertTrue(g.doSample());
        assertEquals(0.6, g.temperature());
        assertEquals(0.9, g.topP());
        assertEquals(20, g.topK());
        assertEquals(256, g.maxNewTokens());
        Files.writeString(f, "{\"eos_token_id\": 7}");
        assertEquals(List.of(7), GenerationDefaults.read(f).eosTokenIds());
        Files.writeString(f, "{\"eos_token_id\": \"7\"}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> GenerationDefaults.read(f));
        assertTrue(e.getMessage().contains("eos_token_id") && e.getMessage().contains(f.toString()), e.getMessage());
    }
}
