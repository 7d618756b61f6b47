package io.github.amulet4j.djl.tokenizer;

import io.github.amulet4j.djl.concurrent.BackgroundLoad;
import io.github.amulet4j.formats.tokenizer.TokenizerConfig;
import io.github.amulet4j.formats.tokenizer.Vocabulary;
import io.github.amulet4j.formats.tokenizer.TokenizerFormatException;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.github.amulet4j.backend.TextTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face {@code tokenizer.json} run by DJL's native tokenizers library (bundled in the jar; nothing
 * is downloaded). DJL never adds special tokens by itself here: {@link #encode} adds none, and
 * {@link #encodePrompt} adds BOS only when {@code tokenizer_config.json} says {@code add_bos_token} (or, when
 * it does not say, when the tokenizer's post-processor would) and the text does not already start with it.
 * Special-token strings inside the text (such as {@code <|im_start|>}) become their ids.
 */
public final class HfTokenizer implements TextTokenizer, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HfTokenizer.class);

    /** The tokenizer file name in a model folder. */
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private final Path file;
    private final HuggingFaceTokenizer djl;
    private final TokenizerConfig config;
    private final Vocabulary vocabulary;
    private final Set<Integer> specialIds;
    private final Integer bosId;
    private final boolean addBos;

    private HfTokenizer(Path file, HuggingFaceTokenizer djl, TokenizerConfig config, Vocabulary vocabulary,
                        Set<Integer> specialIds) {
        this.file = file;
        this.djl = djl;
        this.config = config;
        this.vocabulary = vocabulary;
        this.specialIds = specialIds;
        int bos = config.bosToken() == null ? -1 : vocabulary.id(config.bosToken());
        this.bosId = bos < 0 ? null : bos;
        if (config.bosToken() != null && bosId == null) {
            throw new TokenizerFormatException(file + ": bos_token '" + config.bosToken() + "' of "
                    + (config.source() == null ? "the tokenizer config" : config.source()) + " is not in the vocabulary");
        }
        Boolean declared = config.addBosToken();
        boolean postProcessor = bosId != null && postProcessorAddsBos(bosId);
        this.addBos = bosId != null && (declared != null ? declared : postProcessor);
        LOG.debug("tokenizer {}: {} ids, bos={} addBos={} (config {}, post-processor {})",
                file, vocabulary.size(), config.bosToken(), addBos, declared, postProcessor);
    }

    /** Whether {@link #preloadLibrary} has started. */
    private static final java.util.concurrent.atomic.AtomicBoolean PRELOADING =
            new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Starts loading the tokenizers library (DJL's native code) on a daemon thread of its own, once per JVM, so that a
     * model's load does not wait for it after building the tokenizer's JSON: on loading, DJL's library extracts its
     * native code and asks for a CUDA runtime (0.25-0.35 s on a machine with a CUDA toolkit and no GPU). A failure is
     * left for the tokenizer's own load to report.
     */
    public static void preloadLibrary() {
        if (!PRELOADING.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
            } catch (RuntimeException | LinkageError e) {
                LOG.debug("tokenizers library not preloaded: {}", e.toString());
            }
        }, "amulet-tokenizer-library");
        t.setDaemon(true);
        t.start();
    }

    /** A parse of a GGUF file's cached JSON started by {@link #prefetchGguf}, taken by the first load of that file. */
    private record Prefetch(Path file, Path cached, BackgroundLoad<HuggingFaceTokenizer> parse) {
    }

    private static final java.util.concurrent.atomic.AtomicReference<Prefetch> PREFETCH =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Starts parsing the tokenizer JSON {@code cache} holds for the GGUF file {@code gguf} (if it holds one) on a
     * daemon thread of its own, for a command line that knows the model before it has parsed its options: the next
     * {@link #fromGguf(java.util.function.Supplier, Path, TokenizerJsonCache)} of that file and cache takes it
     * instead of starting its own (a cold start's 0.3 s of option parsing overlap the parse). At most one is kept; a
     * failure is left for that load to meet again.
     */
    public static void prefetchGguf(Path gguf, TokenizerJsonCache cache) {
        Path cached = cache.find(gguf);
        if (cached == null) {
            return;
        }
        BackgroundLoad<HuggingFaceTokenizer> parse = BackgroundLoad.start("amulet-tokenizer-parse",
                () -> parse(gguf, () -> Files.newInputStream(cached)));
        Prefetch old = PREFETCH.getAndSet(new Prefetch(gguf.toAbsolutePath().normalize(), cached, parse));
        if (old != null) {
            closeWhenDone(old.parse());
        }
    }

    /** The parse {@link #prefetchGguf} started for {@code cached} (of {@code gguf}), once; else null. */
    private static BackgroundLoad<HuggingFaceTokenizer> takePrefetch(Path gguf, Path cached) {
        Prefetch p = PREFETCH.get();
        if (p != null && p.file().equals(gguf.toAbsolutePath().normalize()) && p.cached().equals(cached)
                && PREFETCH.compareAndSet(p, null)) {
            return p.parse();
        }
        return null;
    }

    /** Closes what {@code parse} makes, once it is done (on a thread of its own). */
    private static void closeWhenDone(BackgroundLoad<HuggingFaceTokenizer> parse) {
        BackgroundLoad.start("amulet-tokenizer-close", () -> {
            try {
                parse.join().close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("unused tokenizer parse: {}", e.toString());
            }
            return null;
        });
    }

    /**
     * Loads {@code tokenizer.json} and the optional {@code tokenizer_config.json} / {@code chat_template.jinja}
     * of a model folder.
     *
     * @throws TokenizerFormatException naming the file when tokenizer.json is missing or unreadable
     */
    public static HfTokenizer load(Path modelDir) throws IOException {
        return load(modelDir.resolve(TOKENIZER_FILE), TokenizerConfig.readFolder(modelDir));
    }

    /**
     * Loads a {@code tokenizer.json} file with the given config. The ids are read by a streaming reader that skips
     * everything but {@code model.vocab} and {@code added_tokens} (the merges are most of the file); the whole file
     * is parsed only by the tokenizers library.
     */
    public static HfTokenizer load(Path tokenizerJson, TokenizerConfig config) throws IOException {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new TokenizerFormatException("tokenizer not found: " + tokenizerJson
                    + " (a model folder needs a Hugging Face tokenizer.json)");
        }
        // the tokenizers library parses the whole file on a thread of its own while this one reads the ids (each
        // takes a few hundred ms of a cold start for a 151,665-token vocabulary)
        BackgroundLoad<HuggingFaceTokenizer> parse = BackgroundLoad.start("amulet-tokenizer-parse",
                () -> parse(tokenizerJson, () -> Files.newInputStream(tokenizerJson)));
        Map<String, Integer> t2i = new HashMap<>();
        Set<Integer> special = new HashSet<>();
        int maxId = beside(parse, tokenizerJson, () -> TokenizerVocabularyReader.read(tokenizerJson, t2i, special));
        return wrap(tokenizerJson, parse.join(), Vocabulary.of(t2i, maxId), special, config);
    }

    /** What this thread reads beside the library's parse. */
    private interface Read<T> {
        T get() throws IOException;
    }

    /**
     * {@code read} on this thread while {@code parse} runs on its own; where {@code read} fails, its error is thrown
     * (as when the two ran one after the other) once the parse's tokenizer is released (the parse's own error, for
     * the same broken input, adds nothing).
     */
    private static <T> T beside(BackgroundLoad<HuggingFaceTokenizer> parse, Path source, Read<T> read)
            throws IOException {
        try {
            return read.get();
        } catch (IOException | RuntimeException | Error e) {
            try {
                parse.join().close();
            } catch (IOException | RuntimeException ignored) {
                LOG.debug("{}: the tokenizers library's parse failed too: {}", source, ignored.toString());
            }
            throw e;
        }
    }

    /**
     * The tokenizer a GGUF file holds ({@code tokenizer.*} metadata); {@code source} names it in messages. Its JSON
     * is parsed once, by the tokenizers library: the ids come from the metadata.
     */
    public static HfTokenizer fromGguf(io.github.amulet4j.formats.gguf.GgufTokenizer spec, Path source) throws IOException {
        return fromGguf(spec, source, null);
    }

    /**
     * {@link #fromGguf(io.github.amulet4j.formats.gguf.GgufTokenizer, Path)} with the JSON from {@code cache} where
     * it holds this file's (not written again), and put there where it does not; null: no cache. A cached JSON the
     * tokenizers library rejects is deleted and the JSON written again from the metadata.
     */
    public static HfTokenizer fromGguf(io.github.amulet4j.formats.gguf.GgufTokenizer spec, Path source,
                                       TokenizerJsonCache cache) throws IOException {
        return fromGguf(() -> spec, source, cache);
    }

    /**
     * {@link #fromGguf(io.github.amulet4j.formats.gguf.GgufTokenizer, Path, TokenizerJsonCache)} with the
     * tokenizer's metadata read by {@code spec}: where {@code cache} holds this file's JSON, the tokenizers library
     * parses it on a thread of its own while {@code spec} reads the ids (each a few hundred ms of a cold start).
     * Errors of {@code spec} come first, as without a cache.
     */
    public static HfTokenizer fromGguf(java.util.function.Supplier<io.github.amulet4j.formats.gguf.GgufTokenizer> spec,
                                       Path source, TokenizerJsonCache cache) throws IOException {
        Path cached = cache == null ? null : cache.find(source);
        if (cached == null) {
            return fromGgufJson(spec.get(), source, cache);
        }
        BackgroundLoad<HuggingFaceTokenizer> prefetched = takePrefetch(source, cached);
        BackgroundLoad<HuggingFaceTokenizer> parse = prefetched != null ? prefetched
                : BackgroundLoad.start("amulet-tokenizer-parse",
                        () -> parse(source, () -> Files.newInputStream(cached)));
        io.github.amulet4j.formats.gguf.GgufTokenizer ids = beside(parse, source, spec::get);
        HuggingFaceTokenizer djl;
        try {
            djl = parse.join();
        } catch (TokenizerFormatException | IOException e) {
            LOG.warn("cached tokenizer {} of {} not used ({}): deleted, the tokenizer is built from the metadata",
                    cached, source, e.getMessage());
            cache.forget(cached);
            return fromGgufJson(ids, source, cache);
        }
        return wrap(source, djl, ids.vocabulary(), ids.specialIds(), ids.config());
    }

    /** The tokenizer from the JSON {@code spec} writes, which {@code cache} (if any) then keeps. */
    private static HfTokenizer fromGgufJson(io.github.amulet4j.formats.gguf.GgufTokenizer spec, Path source,
                                            TokenizerJsonCache cache) throws IOException {
        String text = spec.json();
        byte[] json = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HfTokenizer t = create(source, spec.vocabulary(), spec.specialIds(),
                () -> new java.io.ByteArrayInputStream(json), spec.config());
        if (cache != null) {
            cache.store(source, text);
        }
        return t;
    }

    /**
     * A tokenizer from {@code tokenizer.json} text built in memory; {@code source} names it in messages.
     *
     * @throws TokenizerFormatException naming the source when the JSON is not a tokenizer the library accepts
     */
    public static HfTokenizer fromJson(String json, Path source, TokenizerConfig config) throws IOException {
        Map<String, Integer> t2i = new HashMap<>();
        Set<Integer> special = new HashSet<>();
        int maxId = TokenizerVocabularyReader.read(new java.io.StringReader(json), source, t2i, special);
        byte[] bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return create(source, Vocabulary.of(t2i, maxId), special, () -> new java.io.ByteArrayInputStream(bytes),
                config);
    }

    /** Opens the tokenizer JSON's bytes again for DJL. */
    private interface JsonSource {
        InputStream open() throws IOException;
    }

    private static HfTokenizer create(Path tokenizerJson, Vocabulary vocabulary, Set<Integer> special,
                                      JsonSource source, TokenizerConfig config) throws IOException {
        return wrap(tokenizerJson, parse(tokenizerJson, source), vocabulary, special, config);
    }

    /** The tokenizers library's tokenizer of the JSON {@code source} opens ({@code tokenizerJson} names it). */
    private static HuggingFaceTokenizer parse(Path tokenizerJson, JsonSource source) throws IOException {
        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        try (InputStream in = source.open()) {
            return HuggingFaceTokenizer.newInstance(in, options);
        } catch (NoSuchFileException e) {
            throw new TokenizerFormatException("tokenizer not found: " + tokenizerJson);
        } catch (RuntimeException e) {
            throw new TokenizerFormatException(tokenizerJson + ": the tokenizers library rejected it: " + e.getMessage(), e);
        }
    }

    /** This class over the library's tokenizer {@code djl} (closed if this fails). */
    private static HfTokenizer wrap(Path tokenizerJson, HuggingFaceTokenizer djl, Vocabulary vocabulary,
                                    Set<Integer> special, TokenizerConfig config) {
        try {
            return new HfTokenizer(tokenizerJson, djl, config, vocabulary, Collections.unmodifiableSet(special));
        } catch (RuntimeException | Error e) {
            djl.close();
            throw e;
        }
    }

    /** Whether DJL's encoding with special tokens puts {@code bos} in front of the text's own ids. */
    private boolean postProcessorAddsBos(int bos) {
        String probe = "a";
        long[] plain = djl.encode(probe, false, false).getIds();
        long[] withSpecial = djl.encode(probe, true, false).getIds();
        return withSpecial.length == plain.length + 1 && withSpecial[0] == bos;
    }

    @Override
    public int[] encode(String text) {
        return ints(djl.encode(text, false, false).getIds());
    }

    private static int[] ints(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Token ids of {@code text} with the tokenizer's special tokens added by its post-processor, as
     * {@code tokenizer(text, add_special_tokens=True)} gives them (Llama 3's prepends {@code <|begin_of_text|>} even
     * when the text starts with it).
     */
    public int[] encodeWithSpecialTokens(String text) {
        return ints(djl.encode(text, true, false).getIds());
    }

    /**
     * Token ids of a rendered prompt: {@link #encode} plus a leading BOS when this tokenizer adds one, the
     * template did not emit it ({@code templateEmitsBos}) and the ids do not already start with it.
     */
    public int[] encodePrompt(String renderedText, boolean templateEmitsBos) {
        int[] ids = encode(renderedText);
        if (!addBos || templateEmitsBos || (ids.length > 0 && ids[0] == bosId)) {
            return ids;
        }
        int[] out = new int[ids.length + 1];
        out[0] = bosId;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    @Override
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /** Text of {@code ids}, with special tokens written out unless {@code skipSpecialTokens}. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabulary.size()) {
                throw new IllegalArgumentException("token id " + ids[i] + " out of range 0.." + (vocabulary.size() - 1)
                        + " of " + file);
            }
            l[i] = ids[i];
        }
        return djl.decode(l, skipSpecialTokens);
    }

    /** Id of a token string (vocabulary or added token), or -1 when there is none. */
    public int tokenToId(String token) {
        return vocabulary.id(token);
    }

    /** Token string of an id, or null when the id has no token. */
    public String idToToken(int id) {
        return vocabulary.token(id);
    }

    @Override
    public int vocabularySize() {
        return vocabulary.size();
    }

    /** Whether {@code id} is a special added token (skipped by {@link #decode(int[])}). */
    public boolean isSpecial(int id) {
        return specialIds.contains(id);
    }

    /** Ids of the special added tokens. */
    public Set<Integer> specialTokenIds() {
        return specialIds;
    }

    /** BOS id, or -1 when the config names no BOS token. */
    public int bosTokenId() {
        return bosId == null ? -1 : bosId;
    }

    /** Id of the config's EOS token, or -1. */
    public int eosTokenId() {
        return config.eosToken() == null ? -1 : tokenToId(config.eosToken());
    }

    /** Whether {@link #encodePrompt} adds a BOS token. */
    public boolean addsBos() {
        return addBos;
    }

    /** The tokenizer config this tokenizer was loaded with. */
    public TokenizerConfig config() {
        return config;
    }

    /** The tokenizer.json file. */
    public Path file() {
        return file;
    }

    @Override
    public void close() {
        djl.close();
    }
}
