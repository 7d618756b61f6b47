package io.github.amulet4j.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufModelWriter;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code ModelOptions.of(file.gguf)}: a random model folder converted to one GGUF file (weights, tokenizer, chat
 * template) loads through {@link AmuletModel} and generates the same tokens as the folder, prompts rendered by the
 * template from the GGUF metadata.
 */
class GgufLoadingTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(names = {"TINY_QWEN2", "TINY_LLAMA", "TINY_GPT2"})
    void ggufFileGeneratesLikeTheFolder(RandomModelFolder.Shape shape) throws IOException {
        Path folder = dir.resolve(shape.id());
        RandomModelFolder.write(folder, shape, 21, SafetensorsDtype.F32);
        Path gguf = dir.resolve(shape.id() + ".gguf");
        GgufModelWriter.convertFolder(folder, gguf, GgmlType.F32);
        GenerationConfig config = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(10).build();
        ModelOptions.Builder opts = ModelOptions.builder().runtime(r -> r.linearKernel(RuntimeOptions.LinearKernel.ENGINE));
        try (AmuletModel a = AmuletModel.load(opts.model(folder).build());
             AmuletModel b = AmuletModel.load(opts.model(gguf).build())) {
            assertEquals(gguf, b.folder());
            PromptPair pa = a.prompts().render("What is the ozone layer?", Preference.of("concise"));
            PromptPair pb = b.prompts().render("What is the ozone layer?", Preference.of("concise"));
            assertEquals(pa.base().text(), pb.base().text());
            assertArrayEquals(pa.base().tokenIds(), pb.base().tokenIds());
            assertArrayEquals(pa.preference().tokenIds(), pb.preference().tokenIds());
            assertEquals(a.prompts().hasChatTemplate(), b.prompts().hasChatTemplate());
            assertEquals(a.prompts().eosTokenIds().iterator().next(), b.prompts().eosTokenIds().iterator().next());
            GenerationResult ra = a.generate("What is the ozone layer?", Preference.of("concise"), config);
            GenerationResult rb = b.generate("What is the ozone layer?", Preference.of("concise"), config);
            assertArrayEquals(ra.tokenIds(), rb.tokenIds());
            assertEquals(ra.text(), rb.text());
            assertTrue(ra.tokenIds().length > 0);
        }
    }

    @Test
    void fileWithoutTheExtensionKnownByItsMagic() throws IOException {
        // Ollama keeps its GGUF files as blobs/sha256-... without the extension
        Path folder = dir.resolve("tiny");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 2, SafetensorsDtype.F32);
        Path blob = dir.resolve("blobs/sha256-0123abcd");
        java.nio.file.Files.createDirectories(blob.getParent());
        GgufModelWriter.convertFolder(folder, blob, GgmlType.Q8_0);
        assertTrue(io.github.amulet4j.djl.gguf.GgufModel.isGguf(blob.toString()));
        assertTrue(!io.github.amulet4j.djl.gguf.GgufModel.isGguf(folder.resolve("config.json").toString()));
        try (AmuletModel m = AmuletModel.load(ModelOptions.of(blob))) {
            assertEquals("Q8_0", m.config().torchDtype());
            assertTrue(m.generate("Hi", Preference.of("concise"), GenerationConfig.builder().maxNewTokens(2).build())
                    .tokenIds().length > 0);
        }
    }

    @Test
    void missingGgufFileNamed() {
        Path f = dir.resolve("absent.gguf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AmuletModel.load(ModelOptions.of(f)));
        assertTrue(e.getMessage().contains("absent.gguf") && e.getMessage().contains("does not exist"), e.getMessage());
        assertTrue(ModelLocator.isLocalPath("models/x.gguf"), "a relative .gguf path is local, not a Hub id");
    }
}
