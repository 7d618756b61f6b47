package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.tokenizer.Vocabulary;

import java.util.HashMap;
import java.util.Map;

/**
 * The {@link Vocabulary} of a GGUF file's {@code tokenizer.ggml.tokens}, read from the file's strings as it is asked:
 * a token string is decoded when its id is looked up, and the map from strings to ids (151,665 entries for Qwen2.5)
 * is built on the first lookup of a string that is not an added token. A cold start looks up only the special
 * tokens (added tokens), so it builds neither; building both eagerly took a few hundred ms of a cold JVM on the
 * tokenizer's thread, which the model's load then waited for (issue 26, cold start).
 *
 * <p>Ids as {@code tokenizer.json} gives them ({@link GgufTokenizer}): a token string listed twice has its first id,
 * unless it is an added token, which has its own. Thread-safe.
 */
final class GgufVocabulary implements Vocabulary {

    private final GgufArray tokens;
    private final int size;
    /** The added tokens' strings and ids. */
    private final Map<String, Integer> added;
    private volatile Map<String, Integer> all;

    /** The first {@code size} strings of {@code tokens}, with {@code added} overriding their ids. */
    GgufVocabulary(GgufArray tokens, int size, Map<String, Integer> added) {
        this.tokens = tokens;
        this.size = size;
        this.added = Map.copyOf(added);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < size ? tokens.string(id) : null;
    }

    @Override
    public int id(String token) {
        if (token == null) {
            return -1;
        }
        Integer id = added.get(token);
        if (id == null) {
            id = all().get(token);
        }
        return id == null ? -1 : id;
    }

    private Map<String, Integer> all() {
        Map<String, Integer> m = all;
        if (m == null) {
            synchronized (this) {
                m = all;
                if (m == null) {
                    String[] strings = tokens.strings();
                    m = new HashMap<>(size * 4 / 3 + 1);
                    for (int i = 0; i < size; i++) {
                        m.putIfAbsent(strings[i], i);
                    }
                    m.putAll(added);
                    all = m;
                }
            }
        }
        return m;
    }
}
