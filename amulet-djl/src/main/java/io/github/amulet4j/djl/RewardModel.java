package io.github.amulet4j.djl;

import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.djl.gguf.GgufModel;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ClassifierConfig;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.formats.gguf.GgufClassifier;
import io.github.amulet4j.transformer.CheckpointTensors;
import io.github.amulet4j.transformer.DecoderLm;
import io.github.amulet4j.transformer.DecoderSettings;
import io.github.amulet4j.transformer.JavaForward;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A reward model that scores finished conversations: a sequence-classification model (Llama, Mistral, Qwen2 or Qwen3
 * body with a {@code score} head, e.g. the Skywork-Reward-V2 family) as {@code transformers}' {@code
 * XForSequenceClassification} computes it (the head on the final-norm hidden state of the last token that is not the
 * pad token), or ArmoRM ({@code LlamaForRewardModelWithGating}, the paper's reward model: 19 objectives and a gated
 * score, as its own modelling code computes them). The conversation is rendered by the model's chat template without
 * a generation prompt and tokenized as a {@link RewardEncoding} says (the model's documented use, or the Amulet paper's
 * script); {@link #encode} does that once and {@link #scoreEncoded} scores the {@link RewardTokens}.
 *
 * <p>Read from a Hugging Face folder, or from a GGUF file whose head is stored as llama.cpp stores a classifier's
 * ({@link GgufClassifier}: {@code cls.output.weight}, read at the last token; ArmoRM has no GGUF form). Runs on the Java kernels in any of their weight formats ({@link RuntimeOptions#weights()}); a GPU, float16 or the
 * engine kernel are refused for now. Not thread-safe: one thread scores at a time.
 */
public final class RewardModel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RewardModel.class);

    private final String name;
    private final ClassifierConfig config;
    private final PromptRenderer prompts;
    private final DecoderLm lm;
    /** ArmoRM's head over the hidden states the pass outputs; null for a linear {@code score} head. */
    private final GatedRewardHead gated;
    /** ArmoRM: the tokens whose last occurrence starts the assistant's answer (the gate reads there). */
    private final int[] gatePattern;

    private RewardModel(String name, ClassifierConfig config, PromptRenderer prompts, DecoderLm lm,
                        GatedRewardHead gated, int[] gatePattern) {
        this.name = name;
        this.config = config;
        this.prompts = prompts;
        this.lm = lm;
        this.gated = gated;
        this.gatePattern = gatePattern;
    }

    /** ArmoRM's gating pattern, encoded with the model's tokenizer as its own code does. */
    public static final String ARMO_RM_GATE_TEXT = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";

    /**
     * Loads the reward model {@code options} names (a local folder, a GGUF file with a classification head, or a Hub
     * id).
     *
     * @throws io.github.amulet4j.formats.checkpoint.CheckpointException naming the file and field when the model is not
     *                                                                  a sequence-classification model this library runs
     *                                                                  (a GGUF file: naming the missing head)
     * @throws IllegalArgumentException when the runtime options ask for something the reward path does not run, or a
     *                                  tensor (the {@code score} head included) is missing or misshapen
     */
    public static RewardModel load(ModelOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        RuntimeOptions runtime = options.runtime().toBuilder().checkpointName(options.model()).build();
        if (runtime.effectiveLinearKernel() != RuntimeOptions.LinearKernel.JAVA) {
            throw new IllegalArgumentException("reward models run on the Java kernels (float32 on the CPU, with "
                    + "--add-modules jdk.incubator.vector); got device " + runtime.device() + ", dtype "
                    + runtime.computeType() + ", linear kernel " + runtime.linearKernel());
        }
        Path path = ModelFiles.resolve(options, true);
        if (GgufModel.isGguf(path.toString()) && java.nio.file.Files.isRegularFile(path)) {
            try (GgufModel gguf = GgufModel.open(path)) {
                ClassifierConfig config = GgufClassifier.read(gguf.file(), gguf.config());
                return create(options, runtime, config, PromptRenderer.load(gguf), gguf.weights());
            }
        }
        if (!java.nio.file.Files.isDirectory(path)) {
            throw new IllegalArgumentException(path + " is neither a folder nor a GGUF file; a reward model is a Hugging"
                    + " Face folder (config.json naming a ...ForSequenceClassification or " + ClassifierConfig.ARMO_RM
                    + " architecture, the tokenizer, and safetensors with the head) or a GGUF file with a '"
                    + GgufClassifier.HEAD + "' head");
        }
        ClassifierConfig config = ClassifierConfig.readFolder(path);
        PromptRenderer prompts = PromptRenderer.load(path, config.body());
        TensorStore store;
        try {
            store = Checkpoints.open(path);
        } catch (IOException | RuntimeException | Error e) {
            prompts.close();
            throw e;
        }
        try (store) {
            return create(options, runtime, config, prompts, store);
        }
    }

    /** The model over an open store; closes {@code prompts} when it fails. */
    private static RewardModel create(ModelOptions options, RuntimeOptions runtime, ClassifierConfig config,
                                      PromptRenderer prompts, TensorStore store) {
        DecoderLm lm = null;
        GatedRewardHead gated = null;
        try {
            CheckpointTensors tensors = new CheckpointTensors(config.body(), store, runtime.checkpointName());
            if (config.gating() != null) {
                gated = GatedRewardHead.read(config, store, runtime.checkpointName());
            }
            JavaForward forward = JavaForward.load(config.body(), store, runtime.checkpointName(),
                    runtime.weights().format(), runtime.effectiveProductThreads(), runtime.kernels(), gated != null
                            ? tensors.hiddenStateHead()
                            : tensors.classifierHead(ClassifierConfig.HEAD, config.numLabels()));
            lm = new DecoderLm(config.body(), new DecoderSettings(runtime.checkpointName(), true,
                    runtime.initialCacheCapacity(), runtime.prefillChunk(), 0, runtime.kvCache()), forward);
            LOG.info("loaded reward model {} ({}, {} layers, hidden {}, {} label(s): {}), weights {}", options.model(),
                    config.architecture(), config.body().numLayers(), config.body().hiddenSize(), config.numLabels(),
                    config.labels(), lm.weightFormats());
            int[] pattern = gated == null ? null : prompts.tokenizer().encode(ARMO_RM_GATE_TEXT);
            return new RewardModel(options.model(), config, prompts, lm, gated, pattern);
        } catch (RuntimeException | Error e) {
            if (lm != null) {
                lm.close();
            }
            prompts.close();
            throw e;
        }
    }

    /** Loads a local reward model folder with default options. */
    public static RewardModel load(Path folder) throws IOException {
        return load(ModelOptions.of(folder));
    }

    /** Scores one finished conversation (its last turn is usually the assistant's answer), encoded as documented. */
    public Reward score(Conversation conversation) {
        return score(List.of(conversation)).get(0);
    }

    /**
     * Scores conversations encoded as documented ({@link RewardEncoding#documented()}), in one batch.
     *
     * @throws IllegalArgumentException when a conversation is longer than the model's context, naming it
     */
    public List<Reward> score(List<Conversation> conversations) {
        Objects.requireNonNull(conversations, "conversations");
        List<RewardTokens> encoded = new ArrayList<>(conversations.size());
        for (int i = 0; i < conversations.size(); i++) {
            encoded.add(encode(Objects.requireNonNull(conversations.get(i), "conversation " + i),
                    RewardEncoding.documented(), i));
        }
        return scoreEncoded(encoded);
    }

    /**
     * Scores encoded conversations ({@link #encode}) in one batch: for a {@code score} head one forward pass over all
     * of them (left-padded), the head read at each one's last token; for ArmoRM one pass each, the rewards read at the
     * last token and the gate at {@link RewardTokens#gate()}.
     */
    public List<Reward> scoreEncoded(List<RewardTokens> encoded) {
        Objects.requireNonNull(encoded, "encoded");
        if (encoded.isEmpty()) {
            return List.of();
        }
        List<Reward> out = new ArrayList<>(encoded.size());
        if (gated != null) {
            for (int i = 0; i < encoded.size(); i++) {
                RewardTokens t = Objects.requireNonNull(encoded.get(i), "encoded " + i);
                if (t.gate() < 0) {
                    throw new IllegalArgumentException("encoded " + i + " has no gate position: encode it with this"
                            + " ArmoRM model");
                }
                int[] ids = t.idsUnsafe();
                float[][] hidden = lm.logitsAllPositions(ids);
                float[] rewards = gated.rewards(hidden[ids.length - 1]);
                out.add(new Reward(rewards, gated.score(rewards, hidden[t.gate()]), ids.length));
            }
            return out;
        }
        List<int[]> prompts = new ArrayList<>(encoded.size());
        for (int i = 0; i < encoded.size(); i++) {
            prompts.add(Objects.requireNonNull(encoded.get(i), "encoded " + i).idsUnsafe());
        }
        try (DecodingSession s = lm.prefill(prompts)) {
            Logits logits = s.logits();
            for (int i = 0; i < prompts.size(); i++) {
                float[] r = logits.row(i);
                out.add(new Reward(r, r.length == 1 ? r[0] : Float.NaN, prompts.get(i).length));
            }
        }
        return out;
    }

    private static int lastOccurrence(int[] ids, int end, int[] pattern) {
        for (int j = end - pattern.length; j >= 0; j--) {
            if (Arrays.equals(ids, j, j + pattern.length, pattern, 0, pattern.length)) {
                return j;
            }
        }
        return -1;
    }

    /**
     * The tokens the reward model reads for {@code conversation} encoded as documented (see
     * {@link #encode(Conversation, RewardEncoding)}).
     */
    public int[] tokens(Conversation conversation) {
        return encode(conversation, RewardEncoding.documented(), 0).ids();
    }

    /**
     * Encodes {@code conversation} once for {@link #scoreEncoded}: rendered by the chat template without a generation
     * prompt and tokenized as {@code encoding} says (the paper's format cuts to its length), then cut where
     * {@code transformers} reads the score: after the last token that is not the pad token for a
     * {@code ...ForSequenceClassification} model, before the first pad token for ArmoRM (its own code's rule). For
     * ArmoRM the gate is the last occurrence of {@link #gatePattern()} in the tokens read.
     *
     * @throws IllegalArgumentException when the tokens are longer than the model's context (unless the encoding
     *                                  truncates to it), or ArmoRM's assistant header is not among them
     */
    public RewardTokens encode(Conversation conversation, RewardEncoding encoding) {
        return encode(conversation, encoding, 0);
    }

    private RewardTokens encode(Conversation conversation, RewardEncoding encoding, int index) {
        Objects.requireNonNull(conversation, "conversation");
        Objects.requireNonNull(encoding, "encoding");
        int[] all;
        int end;
        if (encoding.style() == RewardEncoding.Style.PAPER) {
            String text = prompts.renderConversation(conversation.messages()).text();
            all = prompts.tokenizer().encodeWithSpecialTokens(text);
            end = Math.min(all.length, encoding.maxTokens());
        } else {
            all = prompts.renderConversation(conversation.messages()).tokenIds();
            end = all.length;
        }
        int rendered = all.length;
        boolean cut = end < rendered;
        if (end > lm.maxPositions()) {
            if (!encoding.truncateToContext()) {
                throw new IllegalArgumentException("conversation " + index + " has " + end + " tokens, more than the "
                        + lm.maxPositions() + " positions of the reward model " + name);
            }
            end = lm.maxPositions();
            cut = true;
        }
        int seen = end; // the tokens the model is given; ArmoRM's code looks for its gate among them
        Integer pad = config.padTokenId();
        if (gated != null && pad != null) {
            for (int j = 0; j < end; j++) {
                if (all[j] == pad) {
                    end = j;
                    break;
                }
            }
        }
        while (gated == null && pad != null && end > 0 && all[end - 1] == pad) {
            end--;
        }
        if (end == 0) {
            throw new IllegalArgumentException("conversation " + index + " renders to no token but the pad token");
        }
        int gate = -1;
        if (gated != null) {
            gate = lastOccurrence(all, seen, gatePattern);
            if (gate < 0 || gate >= end) {
                throw new IllegalArgumentException("conversation " + index + " has no assistant header "
                        + Arrays.toString(gatePattern) + " (" + ARMO_RM_GATE_TEXT.replace("\n", "\\n")
                        + ") in the " + end + " tokens it is scored on, for ArmoRM's gate to read");
            }
        }
        int[] ids = end == all.length ? all : Arrays.copyOf(all, end);
        return new RewardTokens(ids, gate, rendered, cut);
    }

    /** ArmoRM's gating pattern as the tokenizer encodes it (a copy); null for other reward models. */
    public int[] gatePattern() {
        return gatePattern == null ? null : gatePattern.clone();
    }

    /** The reward model's configuration: its body, labels and pad id. */
    public ClassifierConfig config() {
        return config;
    }

    /** The model as named in the options (a folder path or a Hub id). */
    public String name() {
        return name;
    }

    /** Releases the model's threads and the tokenizer. */
    @Override
    public void close() {
        lm.close();
        prompts.close();
    }
}
