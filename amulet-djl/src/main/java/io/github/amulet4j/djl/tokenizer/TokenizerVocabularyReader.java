package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.formats.tokenizer.TokenizerFormatException;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the token ids of a Hugging Face {@code tokenizer.json} with a streaming reader: {@code model.vocab} (a map of
 * token to id, or a Unigram list of {@code [piece, score]} pairs whose ids are their positions) and
 * {@code added_tokens} (which override the vocabulary's ids, wherever they stand in the file), skipping everything
 * else (the merges, most of a BPE file) without building a JSON tree.
 */
final class TokenizerVocabularyReader {

    private TokenizerVocabularyReader() {
    }

    /** An added token read before the vocabulary is known. */
    private record Added(String content, int id, boolean special) {
    }

    /**
     * Fills {@code t2i} and the ids of special added tokens from {@code file}; returns the largest id.
     *
     * @throws TokenizerFormatException naming the file and field for a file that is not a tokenizer
     */
    static int read(Path file, Map<String, Integer> t2i, Set<Integer> special) throws IOException {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(in, file, t2i, special);
        }
    }

    /** As {@link #read(Path, Map, Set)} from text; {@code source} names it in messages. */
    static int read(Reader in, Path source, Map<String, Integer> t2i, Set<Integer> special) throws IOException {
        List<Added> added = new ArrayList<>();
        boolean model = false;
        boolean vocab = false;
        int max = -1;
        try {
            JsonReader r = new JsonReader(in);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new TokenizerFormatException(source + ": not valid JSON: expected an object, found " + r.peek());
            }
            r.beginObject();
            while (r.hasNext()) {
                String name = r.nextName();
                if (name.equals("model")) {
                    if (r.peek() != JsonToken.BEGIN_OBJECT) {
                        throw new TokenizerFormatException(source + ": missing or non-object field 'model'");
                    }
                    model = true;
                    r.beginObject();
                    while (r.hasNext()) {
                        if (!r.nextName().equals("vocab")) {
                            r.skipValue();
                            continue;
                        }
                        vocab = true;
                        max = Math.max(max, readVocab(r, source, t2i));
                    }
                    r.endObject();
                } else if (name.equals("added_tokens") && r.peek() == JsonToken.BEGIN_ARRAY) {
                    r.beginArray();
                    while (r.hasNext()) {
                        added.add(readAdded(r, source));
                    }
                    r.endArray();
                } else {
                    r.skipValue();
                }
            }
            r.endObject();
        } catch (com.google.gson.stream.MalformedJsonException | IllegalStateException | java.io.EOFException e) {
            throw new TokenizerFormatException(source + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!model) {
            throw new TokenizerFormatException(source + ": missing or non-object field 'model'");
        }
        if (!vocab) {
            throw new TokenizerFormatException(source + ": missing field 'model.vocab' (a map or a list of pieces)");
        }
        for (Added a : added) {
            t2i.put(a.content(), a.id());
            if (a.special()) {
                special.add(a.id());
            }
            max = Math.max(max, a.id());
        }
        return max;
    }

    private static int readVocab(JsonReader r, Path source, Map<String, Integer> t2i) throws IOException {
        int max = -1;
        if (r.peek() == JsonToken.BEGIN_OBJECT) {
            r.beginObject();
            while (r.hasNext()) {
                String token = r.nextName();
                int id = readInt(r, source, "model.vocab." + token);
                t2i.put(token, id);
                max = Math.max(max, id);
            }
            r.endObject();
        } else if (r.peek() == JsonToken.BEGIN_ARRAY) {
            r.beginArray();
            int id = 0;
            while (r.hasNext()) {
                if (r.peek() != JsonToken.BEGIN_ARRAY) {
                    throw new TokenizerFormatException(source + ": field 'model.vocab' must be a list of [piece, score]"
                            + " pairs, found " + r.peek() + " at " + r.getPath());
                }
                r.beginArray();
                if (!r.hasNext() || r.peek() != JsonToken.STRING) {
                    throw new TokenizerFormatException(source + ": field 'model.vocab' must be a list of [piece, "
                            + "score] pairs, found an entry without its piece at " + r.getPath());
                }
                t2i.put(r.nextString(), id);
                while (r.hasNext()) {
                    r.skipValue();
                }
                r.endArray();
                max = Math.max(max, id++);
            }
            r.endArray();
        } else {
            throw new TokenizerFormatException(source + ": missing field 'model.vocab' (a map or a list of pieces)");
        }
        return max;
    }

    private static Added readAdded(JsonReader r, Path source) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new TokenizerFormatException(source + ": field 'added_tokens' must be a list of objects with 'id' and "
                    + "'content', found " + r.peek() + " at " + r.getPath());
        }
        Integer id = null;
        String content = null;
        boolean special = true;
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            if (r.peek() == JsonToken.NULL) {
                r.skipValue();
                continue;
            }
            switch (name) {
                case "id" -> id = readInt(r, source, "added_tokens.id");
                case "content" -> content = r.nextString();
                case "special" -> special = r.nextBoolean();
                default -> r.skipValue();
            }
        }
        r.endObject();
        if (id == null || content == null) {
            throw new TokenizerFormatException(source + ": field 'added_tokens' must be a list of objects with 'id' and "
                    + "'content', found one without " + (id == null ? "'id'" : "'content'") + " at " + r.getPath());
        }
        return new Added(content, id, special);
    }

    private static int readInt(JsonReader r, Path source, String field) throws IOException {
        if (r.peek() != JsonToken.NUMBER) {
            throw new TokenizerFormatException(source + ": field '" + field + "' must be an integer, found " + r.peek());
        }
        String text = r.nextString();
        try {
            return new BigDecimal(text).intValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new TokenizerFormatException(source + ": field '" + field + "' must be an integer, found " + text);
        }
    }
}
