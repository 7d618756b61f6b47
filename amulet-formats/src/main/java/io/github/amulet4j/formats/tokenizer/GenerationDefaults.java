package io.github.amulet4j.formats.tokenizer;

import io.github.amulet4j.formats.json.Json;
import io.github.amulet4j.formats.json.JsonFieldException;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model authors' generation defaults from {@code generation_config.json} (an optional file). Absent
 * fields are null (or an empty list for the EOS ids).
 *
 * @param eosTokenIds  {@code eos_token_id}, a scalar or a list in the file
 * @param bosTokenId   {@code bos_token_id}
 * @param padTokenId   {@code pad_token_id}
 * @param doSample     {@code do_sample}
 * @param temperature  {@code temperature}
 * @param topP         {@code top_p}
 * @param topK         {@code top_k}
 * @param maxNewTokens {@code max_new_tokens}
 */
public record GenerationDefaults(List<Integer> eosTokenIds, Integer bosTokenId, Integer padTokenId, Boolean doSample,
                                 Double temperature, Double topP, Integer topK, Integer maxNewTokens) {

    /** The file name in a model folder. */
    public static final String FILE_NAME = "generation_config.json";

    public GenerationDefaults {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    }

    /** No defaults (the file is absent). */
    public static GenerationDefaults none() {
        return new GenerationDefaults(List.of(), null, null, null, null, null, null, null);
    }

    /** Reads {@code generation_config.json} of a model folder, or {@link #none()} when the folder has none. */
    public static GenerationDefaults readFolder(Path modelDir) throws IOException {
        Path f = modelDir.resolve(FILE_NAME);
        return Files.isRegularFile(f) ? read(f) : none();
    }

    /**
     * Reads a generation config file.
     *
     * @throws TokenizerFormatException naming the file and field for invalid JSON or a mistyped field
     */
    public static GenerationDefaults read(Path file) throws IOException {
        try {
            JsonObject o = Json.readObject(file);
            return new GenerationDefaults(
                    Json.intOrList(o, "eos_token_id", file),
                    Json.optInt(o, "bos_token_id", file),
                    Json.optInt(o, "pad_token_id", file),
                    Json.optBool(o, "do_sample", file),
                    Json.optDouble(o, "temperature", file),
                    Json.optDouble(o, "top_p", file),
                    Json.optInt(o, "top_k", file),
                    Json.optInt(o, "max_new_tokens", file));
        } catch (JsonFieldException e) {
            throw new TokenizerFormatException(e.getMessage(), e);
        }
    }
}
