package io.github.amulet4j.formats.tokenizer;

import java.util.Map;

/** A {@link Vocabulary} held as a map and an array, both complete from the start ({@link Vocabulary#of}). */
final class MapVocabulary implements Vocabulary {

    private final Map<String, Integer> tokenToId;
    private final String[] idToToken;

    MapVocabulary(Map<String, Integer> tokenToId, int maxId) {
        this.tokenToId = java.util.Collections.unmodifiableMap(tokenToId);
        this.idToToken = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : tokenToId.entrySet()) {
            int id = e.getValue();
            if (id < 0 || id > maxId) {
                throw new IllegalArgumentException("token '" + e.getKey() + "' has id " + id + ", outside 0.." + maxId);
            }
            idToToken[id] = e.getKey();
        }
    }

    @Override
    public int size() {
        return idToToken.length;
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    @Override
    public int id(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? -1 : id;
    }
}
