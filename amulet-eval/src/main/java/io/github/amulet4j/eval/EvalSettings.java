package io.github.amulet4j.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings an eval run's rows depend on, recorded next to its results file ({@code <out>.settings.json}) so
 * that a later run appends to it only under the same settings: model, revision, compute dtype, prompt style,
 * system prompt, most new tokens, per method its parameters (decoding; Amulet's iterations, eta, alpha, lambda for
 * {@code amulet}; rho for {@code la}; beams and length penalty for {@code beam}), and per preference name its text.
 * Methods and preferences that one run has and the other lacks are not differences (they only add rows).
 */
public final class EvalSettings {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EvalSettings.class);

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();
    /** The top-level settings, in the order differences are reported. */
    private static final List<String> GLOBAL = List.of("model", "revision", "dtype", "prompt_style", "system",
            "max_new_tokens");

    private final JsonObject json;

    private EvalSettings(JsonObject json) {
        this.json = json;
    }

    /**
     * The settings of a run.
     *
     * @param model       the model as named ({@code --model})
     * @param revision    its Hub revision
     * @param dtype       the compute dtype
     * @param promptStyle the prompt style's name
     * @param system      the system prompt, or null
     * @param configs     the generation configuration of each method
     * @param preferences each preference name's preference
     */
    public static EvalSettings of(String model, String revision, String dtype, String promptStyle, String system,
                                  Map<AlignmentMethod, GenerationConfig> configs, Map<String, Preference> preferences) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("revision", revision);
        o.addProperty("dtype", dtype);
        o.addProperty("prompt_style", promptStyle);
        o.add("system", system == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(system));
        Integer maxNew = null;
        JsonObject methods = new JsonObject();
        for (Map.Entry<AlignmentMethod, GenerationConfig> e : configs.entrySet()) {
            GenerationConfig c = e.getValue();
            maxNew = c.maxNewTokens();
            methods.add(e.getKey().id(), methodSettings(e.getKey(), c));
        }
        o.addProperty("max_new_tokens", maxNew);
        o.add("methods", methods);
        JsonObject prefs = new JsonObject();
        preferences.forEach((name, p) -> prefs.addProperty(name, p.text()));
        o.add("preferences", prefs);
        return new EvalSettings(o);
    }

    private static JsonObject methodSettings(AlignmentMethod method, GenerationConfig c) {
        JsonObject m = new JsonObject();
        DecodingConfig d = c.decoding();
        if (!d.doSample()) {
            m.addProperty("decoding", "greedy");
        } else {
            m.addProperty("decoding", "sample");
            m.addProperty("temperature", d.temperature());
            m.addProperty("top_k", d.topK());
            m.addProperty("top_p", d.topP());
            m.add("seed", d.seed().isPresent() ? new com.google.gson.JsonPrimitive(d.seed().getAsLong()) : JsonNull.INSTANCE);
            if (d.minP() != 0) {
                m.addProperty("min_p", d.minP());
            }
        }
        // recorded when on, so that the settings files of runs without them still match
        if (d.repetitionPenalty() != 1) {
            m.addProperty("repetition_penalty", d.repetitionPenalty());
        }
        if (d.noRepeatNgramSize() != 0) {
            m.addProperty("no_repeat_ngram_size", d.noRepeatNgramSize());
        }
        switch (method) {
            case AMULET -> {
                AmuletParameters a = c.amulet();
                m.addProperty("iterations", a.iterations());
                m.addProperty("eta", a.eta());
                m.addProperty("alpha", a.alpha());
                m.addProperty("lambda", a.lambda());
            }
            case LA -> m.addProperty("rho", c.rho());
            case BEAM -> {
                m.addProperty("beams", c.numBeams());
                m.addProperty("length_penalty", c.lengthPenalty());
                // always: runs recorded before early_stopping existed stopped by another rule
                m.addProperty("early_stopping", c.earlyStopping().id());
            }
            default -> {
                // base and pref: decoding only
            }
        }
        return m;
    }

    /** The sidecar file of a results file: {@code <results>.settings.json}. */
    public static Path fileFor(Path results) {
        return results.resolveSibling(results.getFileName() + ".settings.json");
    }

    /**
     * Reads recorded settings.
     *
     * @return empty when the file does not exist
     * @throws IllegalArgumentException naming the file when it is not a settings file
     */
    public static Optional<EvalSettings> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(Files.readString(file, StandardCharsets.UTF_8), file.toString()));
        } catch (IllegalArgumentException | java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(e.getMessage() + ". " + CORRUPT_ADVICE, e);
        }
    }

    /** What to do about a corrupt settings file; deleting the results ({@code --overwrite}) is the last resort. */
    static final String CORRUPT_ADVICE = "This file records the settings of the rows in the results file beside it;"
            + " it was probably cut short by a crash or edited by hand, and the rows themselves are untouched. Restore"
            + " it (from a backup, or from the settings of the run that wrote the rows); or move it aside to check the"
            + " rows by hand, or write this run to another --out. Only if those rows are not wanted, --overwrite"
            + " deletes them all and starts a new run";

    /**
     * Parses recorded settings (the text {@link #text()} gives).
     *
     * @param source names the text in errors (a file)
     * @throws IllegalArgumentException naming {@code source} when the text is not a settings file
     */
    public static EvalSettings parse(String text, String source) {
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject() || !e.getAsJsonObject().has("model")) {
                throw new IllegalArgumentException(source + " is not an eval settings file (expected a JSON object with"
                        + " \"model\", \"methods\", \"preferences\", ...)");
            }
            return new EvalSettings(e.getAsJsonObject());
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(source + " is not valid JSON (an eval settings file): "
                    + e.getMessage(), e);
        }
    }

    /** The settings as the text of a settings file. */
    public String text() {
        return GSON.toJson(json) + "\n";
    }

    /**
     * Writes the settings to {@code file}, replaced atomically and durably: the text goes to a temporary file in
     * the same folder, which is forced to the disk, then moved over {@code file} in one atomic rename, and the
     * folder is forced too (where the platform allows it), so a crash leaves either the old settings or the new
     * ones, never a cut or empty file.
     */
    public void write(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] bytes = text().getBytes(StandardCharsets.UTF_8);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        forceDirectory(file.toAbsolutePath().getParent());
    }

    /** Forces a folder's entries (the rename) to the disk; not every platform opens a folder (Windows does not). */
    static void forceDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir,
                java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot force the folder {} to the disk ({}); the rename is atomic but may not be durable yet",
                    dir, e.toString());
        }
    }

    /**
     * The settings in which this run differs from {@code recorded}, one line each ({@code name: recorded -> this});
     * empty when rows of both runs may share one file.
     */
    public List<String> differencesFrom(EvalSettings recorded) {
        List<String> out = new ArrayList<>();
        for (String k : GLOBAL) {
            compare(k, recorded.json.get(k), json.get(k), out);
        }
        JsonObject mine = object(json, "methods");
        JsonObject theirs = object(recorded.json, "methods");
        for (String method : mine.keySet()) {
            if (theirs.has(method) && theirs.get(method).isJsonObject()) {
                JsonObject a = theirs.getAsJsonObject(method);
                JsonObject b = mine.getAsJsonObject(method);
                java.util.Set<String> keys = new java.util.LinkedHashSet<>(a.keySet());
                keys.addAll(b.keySet());
                for (String k : keys) {
                    compare(method + "." + k, a.get(k), b.get(k), out);
                }
            }
        }
        JsonObject myPrefs = object(json, "preferences");
        JsonObject theirPrefs = object(recorded.json, "preferences");
        for (String name : myPrefs.keySet()) {
            if (theirPrefs.has(name)) {
                compare("preference '" + name + "'", theirPrefs.get(name), myPrefs.get(name), out);
            }
        }
        return out;
    }

    /** These settings with the methods and preferences of {@code recorded} that this run lacks added. */
    public EvalSettings unionWith(EvalSettings recorded) {
        JsonObject o = json.deepCopy();
        JsonObject methods = object(o, "methods");
        object(recorded.json, "methods").entrySet().forEach(e -> {
            if (!methods.has(e.getKey())) {
                methods.add(e.getKey(), e.getValue());
            }
        });
        o.add("methods", methods);
        JsonObject prefs = object(o, "preferences");
        object(recorded.json, "preferences").entrySet().forEach(e -> {
            if (!prefs.has(e.getKey())) {
                prefs.add(e.getKey(), e.getValue());
            }
        });
        o.add("preferences", prefs);
        return new EvalSettings(o);
    }

    private static JsonObject object(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
    }

    private static void compare(String name, JsonElement recorded, JsonElement now, List<String> out) {
        JsonElement a = recorded == null ? JsonNull.INSTANCE : recorded;
        JsonElement b = now == null ? JsonNull.INSTANCE : now;
        if (!same(a, b)) {
            out.add(name + ": " + a + " -> " + b);
        }
    }

    /** JSON equality, with numbers compared by value (60 and 60.0 are the same). */
    private static boolean same(JsonElement a, JsonElement b) {
        if (a.isJsonPrimitive() && b.isJsonPrimitive() && a.getAsJsonPrimitive().isNumber()
                && b.getAsJsonPrimitive().isNumber()) {
            return a.getAsBigDecimal().compareTo(b.getAsBigDecimal()) == 0;
        }
        return Objects.equals(a, b);
    }

    /** The settings as JSON (a copy). */
    public JsonObject toJson() {
        return json.deepCopy();
    }

    @Override
    public String toString() {
        return json.toString();
    }
}
