package io.github.amulet4j.cli;

import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.djl.ModelLocator;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.gguf.GgufModel;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.EarlyStopping;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PreferencePresets;
import io.github.amulet4j.prompt.PromptStyle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns the shared options into the library's configuration objects. Every invalid value becomes a
 * {@link UsageException} (exit code 2) naming the option.
 */
final class Options {

    private Options() {
    }

    /** The model options; a local folder or GGUF file that does not exist is bad usage. */
    static ModelOptions model(ModelFlags o, RuntimeOptions runtime) {
        if (ModelLocator.isLocalPath(o.model)) {
            Path folder = ModelLocator.localFolder(o.model);
            if (GgufModel.isGguf(folder.toString())) {
                if (!Files.isRegularFile(folder)) {
                    throw new UsageException("--model: GGUF file " + folder + " does not exist");
                }
            } else if (!Files.isDirectory(folder)) {
                throw new UsageException("--model: model folder " + folder + " does not exist"
                        + (Files.exists(folder) ? " (it is a file; expected a Hugging Face model folder or a .gguf file)"
                        : ""));
            }
        }
        try {
            ModelOptions.Builder b = ModelOptions.builder().model(o.model).runtime(runtime);
            if (o.revision != null) {
                b.revision(o.revision);
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(inUserWords(e.getMessage()), e);
        }
    }

    /** A method by name. */
    static AlignmentMethod method(String name, String option) {
        try {
            return AlignmentMethod.fromName(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + ": " + e.getMessage());
        }
    }

    /** The library's names of settings and the flags users type for them. */
    private static final Map<String, String> FLAG_NAMES = Map.ofEntries(
            Map.entry("maxNewTokens", "--max-new-tokens"), Map.entry("numBeams", "--beams"),
            Map.entry("topP", "--top-p"), Map.entry("topK", "--top-k"), Map.entry("top-p", "--top-p"),
            Map.entry("top-k", "--top-k"), Map.entry("temperature", "--temperature"), Map.entry("minP", "--min-p"),
            Map.entry("repetitionPenalty", "--repetition-penalty"),
            Map.entry("noRepeatNgramSize", "--no-repeat-ngram-size"), Map.entry("lengthPenalty", "--length-penalty"),
            Map.entry("earlyStopping", "--early-stopping"), Map.entry("rho", "--ratio"),
            Map.entry("iterations", "--iterations"), Map.entry("eta", "--eta"), Map.entry("alpha", "--alpha"),
            Map.entry("lambda", "--lambda"), Map.entry("Device.cpu()", "--device cpu"), Map.entry("Device.gpu()", "--device gpu"));

    private static final Pattern LIBRARY_NAME = Pattern.compile(
            "(?<![\\w.-])(" + FLAG_NAMES.keySet().stream().sorted((a, b) -> b.length() - a.length())
                    .map(Pattern::quote).collect(Collectors.joining("|")) + ")(?![\\w(-])");

    /**
     * A library message in the command line's words: the library's names of settings ({@code maxNewTokens},
     * {@code topP}, {@code numBeams}, {@code Device.cpu()}, ...) become the flags users type.
     */
    static String inUserWords(String message) {
        if (message == null) {
            return null;
        }
        Matcher m = LIBRARY_NAME.matcher(message);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(FLAG_NAMES.get(m.group(1))));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** A comma-separated list of methods. */
    static List<AlignmentMethod> methods(String list, String option) {
        List<AlignmentMethod> out = new ArrayList<>();
        for (String name : list.split(",")) {
            if (!name.isBlank()) {
                AlignmentMethod m = method(name, option);
                if (!out.contains(m)) {
                    out.add(m);
                }
            }
        }
        if (out.isEmpty()) {
            throw new UsageException(option + ": no method given");
        }
        return out;
    }

    /** The generation configuration for {@code method} from the shared options. */
    static GenerationConfig generation(SharedOptions o, AlignmentMethod method) {
        try {
            AmuletParameters.Builder amulet = AmuletParameters.builder();
            if (o.iterations != null) {
                amulet.iterations(o.iterations);
            }
            if (o.eta != null) {
                amulet.eta(o.eta);
            }
            if (o.alpha != null) {
                amulet.alpha(o.alpha);
            }
            if (o.lambda != null) {
                amulet.lambda(o.lambda);
            }
            GenerationConfig.Builder b = GenerationConfig.builder()
                    .method(method)
                    .amulet(amulet.build())
                    .maxNewTokens(o.maxNewTokens)
                    .decoding(decoding(o));
            if (o.ratio != null) {
                b.rho(o.ratio);
            }
            if (o.beams != null) {
                if (o.beams < 1) {
                    throw new UsageException("--beams: expected a whole number >= 1, got " + o.beams);
                }
                b.numBeams(o.beams);
            }
            if (o.lengthPenalty != null) {
                if (!Double.isFinite(o.lengthPenalty)) {
                    throw new UsageException("--length-penalty: expected a finite number, got " + o.lengthPenalty);
                }
                b.lengthPenalty(o.lengthPenalty);
            }
            if (o.earlyStopping != null) {
                try {
                    b.earlyStopping(EarlyStopping.parse(o.earlyStopping));
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--early-stopping: " + e.getMessage());
                }
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(inUserWords(e.getMessage()), e);
        }
    }

    /**
     * The decoding rule of the command line (documented in the user guide): sampling is on when a sampling
     * option is given ({@code --do-sample}, {@code --temperature} above 0, {@code --top-k}, {@code --top-p},
     * {@code --min-p}, {@code --seed}), else greedy; {@code --repetition-penalty} and
     * {@code --no-repeat-ngram-size} apply to both. {@code --greedy} and {@code --temperature 0} ask for greedy decoding and
     * cannot be combined with a sampling option. The same for every method, beam search included.
     */
    static DecodingConfig decoding(SharedOptions o) {
        if (o.temperature != null && !(o.temperature >= 0 && Double.isFinite(o.temperature))) {
            throw new UsageException("--temperature: expected a number >= 0 (0 = greedy), got " + o.temperature);
        }
        if (o.topK != null && o.topK < 0) {
            throw new UsageException("--top-k: expected a whole number >= 0 (0 = all tokens), got " + o.topK);
        }
        if (o.topP != null && !(o.topP > 0 && o.topP <= 1)) {
            throw new UsageException("--top-p: expected a number above 0 and at most 1 (1 = all tokens), got " + o.topP);
        }
        if (o.minP != null && !(o.minP >= 0 && o.minP <= 1)) {
            throw new UsageException("--min-p: expected a number from 0 to 1 (0 = off), got " + o.minP);
        }
        if (o.repetitionPenalty != null && !(o.repetitionPenalty > 0 && Double.isFinite(o.repetitionPenalty))) {
            throw new UsageException("--repetition-penalty: expected a number above 0 (1 = off), got "
                    + o.repetitionPenalty);
        }
        if (o.noRepeatNgramSize != null && o.noRepeatNgramSize < 0) {
            throw new UsageException("--no-repeat-ngram-size: expected a whole number >= 0 (0 = off), got "
                    + o.noRepeatNgramSize);
        }
        List<String> sampling = new ArrayList<>();
        if (o.doSample) {
            sampling.add("--do-sample");
        }
        if (o.temperature != null && o.temperature > 0) {
            sampling.add("--temperature");
        }
        if (o.topK != null) {
            sampling.add("--top-k");
        }
        if (o.topP != null) {
            sampling.add("--top-p");
        }
        if (o.minP != null) {
            sampling.add("--min-p");
        }
        if (o.seed != null) {
            sampling.add("--seed");
        }
        String greedy = o.greedy ? "--greedy" : o.temperature != null && o.temperature == 0 ? "--temperature 0" : null;
        if (greedy != null && !sampling.isEmpty()) {
            throw new UsageException(greedy + " asks for greedy decoding, but " + String.join(", ", sampling)
                    + (sampling.size() == 1 ? " applies" : " apply") + " only to sampling: drop one of them");
        }
        DecodingConfig.Builder d = DecodingConfig.builder().doSample(!sampling.isEmpty());
        if (o.temperature != null) {
            d.temperature(o.temperature);
        }
        if (o.topK != null) {
            d.topK(o.topK);
        }
        if (o.topP != null) {
            d.topP(o.topP);
        }
        if (o.minP != null) {
            d.minP(o.minP);
        }
        if (o.repetitionPenalty != null) {
            d.repetitionPenalty(o.repetitionPenalty);
        }
        if (o.noRepeatNgramSize != null) {
            d.noRepeatNgramSize(o.noRepeatNgramSize);
        }
        if (o.seed != null) {
            d.seed(o.seed);
        }
        return d.build();
    }

    /** The question of a command: empty or blank is bad usage. */
    static String question(String value) {
        if (value == null || value.isBlank()) {
            throw new UsageException("QUESTION is empty: give the question to answer");
        }
        return value;
    }

    /**
     * A preference as typed after {@code flag} (or chat's {@code /pref}): a preset name, else free text; a single
     * word within a small edit distance of a preset name is refused ({@link PreferencePresets#nearMiss}).
     *
     * @throws UsageException naming {@code flag} for a blank value or a likely typo
     */
    static Preference preference(String value, String flag) {
        if (value == null || value.isBlank()) {
            throw new UsageException(flag + ": a preference is needed (a preset name such as 'concise', or free text)");
        }
        PreferencePresets.nearMiss(value).ifPresent(name -> {
            throw new UsageException(flag + ": unknown preset '" + value.trim() + "'; did you mean '" + name
                    + "'? (for free text that is one word, use --preference-text)");
        });
        return Preference.of(value.trim());
    }

    /** A free-text preference, never read as a preset. @throws UsageException naming {@code flag} when blank */
    static Preference freeText(String value, String flag) {
        if (value == null || value.isBlank()) {
            throw new UsageException(flag + ": the preference text is empty");
        }
        return new Preference(value.trim());
    }

    /** A preset by name (eval's --preferences): an unknown name is bad usage. */
    static Preference preset(String name, String option) {
        return PreferencePresets.find(name.trim()).map(Preference::new).orElseThrow(() -> new UsageException(option
                + ": unknown preset '" + name.trim() + "'; presets: " + String.join(", ", PreferencePresets.all().keySet())
                + " (use --preference-file for free-text preferences)"));
    }

    /** The prompt style of {@code --prompt-style}. */
    static PromptStyle promptStyle(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "default" -> PromptStyle.DEFAULT;
            case "paper" -> PromptStyle.PAPER;
            default -> throw new UsageException("--prompt-style: unknown style '" + value + "'; valid: default, paper");
        };
    }
}
