package io.github.amulet4j.formats.gguf;

import io.github.amulet4j.formats.checkpoint.ClassifierConfig;
import io.github.amulet4j.formats.checkpoint.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A sequence-classification head stored in a GGUF file as llama.cpp lays it out for its decoder classifiers (the Qwen3
 * rerankers): the head as {@code cls.output.weight} ({@code ne = [hidden, labels]}, i.e. Hugging Face's {@code
 * score.weight} of shape {@code [labels, hidden]}, in any weight type), the label names in {@code
 * <arch>.classifier.output_labels} and {@code <arch>.pooling_type} 4 ({@code rank}: the head on the last token). The
 * number of labels is the tensor's; the body is the file's decoder. GGUF keeps no pad id of the classifier, so the head
 * reads the last token, as llama.cpp does ({@code transformers} reads the last token that is not its {@code
 * pad_token_id}: the same for a conversation that does not end in padding).
 */
public final class GgufClassifier {

    /** The head's GGUF name; read as {@link ClassifierConfig#HEAD}. */
    public static final String HEAD = "cls.output.weight";
    /** llama.cpp's pooling type that applies the classification head ({@code LLAMA_POOLING_TYPE_RANK}). */
    public static final int POOLING_RANK = 4;
    /** llama.cpp's last-token pooling ({@code LLAMA_POOLING_TYPE_LAST}), also read as the head on the last token. */
    public static final int POOLING_LAST = 3;

    private static final List<String> POOLING_NAMES = List.of("none", "mean", "cls", "last", "rank");

    /** A GGUF name of a llama.cpp classification head this library does not run: BERT's dense layer and biases. */
    private static final List<String> UNSUPPORTED = List.of("cls.weight", "cls.bias", "cls.output.bias", "cls.norm.weight");

    private GgufClassifier() {
    }

    /** The metadata key of the label names, {@code <arch>.classifier.output_labels}. */
    public static String labelsKey(String ggufArchitecture) {
        return ggufArchitecture + ".classifier.output_labels";
    }

    /** The metadata key of the pooling type, {@code <arch>.pooling_type}. */
    public static String poolingKey(String ggufArchitecture) {
        return ggufArchitecture + ".pooling_type";
    }

    /**
     * Reads the classifier of a GGUF file whose decoder is {@code body} ({@link GgufModelConfig#read}).
     *
     * @throws GgufFormatException naming the file and the tensor or key: no {@code cls.output.weight} (a causal LM's
     *                             file; ArmoRM's gating network has no GGUF form), a head of another shape, a body
     *                             that is not Llama, Mistral, Qwen2 or Qwen3, label names that do not match the head,
     *                             a pooling type other than {@code rank} or {@code last}, or a BERT-style dense layer
     */
    public static ClassifierConfig read(GgufFile file, ModelConfig body) {
        String src = file.path().toString();
        GgufMetadata m = file.metadata();
        String a = m.string("general.architecture");
        GgufTensorInfo head = file.tensors().get(HEAD);
        if (head == null) {
            throw new GgufFormatException(src + ": no tensor '" + HEAD + "' (the classification head, ne [hidden, labels],"
                    + " as llama.cpp stores a sequence classifier's score.weight): a causal language model's GGUF, not a"
                    + " reward model. ArmoRM (" + ClassifierConfig.ARMO_RM + ") has no GGUF form (its regression layer,"
                    + " gating network and reward transform are not GGUF tensors): score it from its Hugging Face folder");
        }
        for (String t : UNSUPPORTED) {
            if (file.tensors().containsKey(t)) {
                throw new GgufFormatException(src + ": tensor '" + t + "' (a BERT-style classification head) is not run;"
                        + " a reward model's head is '" + HEAD + "' alone, without bias");
            }
        }
        String arch = null;
        for (Map.Entry<String, String> e : ClassifierConfig.BODIES.entrySet()) {
            if (e.getValue().equals(body.architecture())) {
                arch = e.getKey();
            }
        }
        if (arch == null) {
            throw new GgufFormatException(src + ": a classification head on a '" + a + "' body is not run (supported"
                    + " GGUF bodies of reward models: llama, qwen2, qwen3)");
        }
        long[] ne = head.ne();
        if (ne.length != 2 || ne[0] != body.hiddenSize() || ne[1] < 1 || ne[1] > 1 << 20) {
            throw new GgufFormatException(src + ": tensor '" + HEAD + "' has ne " + Arrays.toString(ne) + ", expected ["
                    + body.hiddenSize() + ", labels] (hidden size, then 1 to 2^20 labels)");
        }
        int labels = (int) ne[1];
        String poolingKey = poolingKey(a);
        if (m.has(poolingKey)) {
            long pooling = m.integer(poolingKey);
            if (pooling != POOLING_RANK && pooling != POOLING_LAST) {
                String name = pooling >= 0 && pooling < POOLING_NAMES.size() ? POOLING_NAMES.get((int) pooling) : "?";
                throw new GgufFormatException(src + ": metadata '" + poolingKey + "' is " + pooling + " (" + name
                        + "); a reward model's head reads the last token: expected " + POOLING_RANK + " (rank) or "
                        + POOLING_LAST + " (last)");
            }
        }
        List<String> names = new ArrayList<>();
        String labelsKey = labelsKey(a);
        if (m.has(labelsKey)) {
            names.addAll(Arrays.asList(m.strings(labelsKey)));
            if (names.size() != labels) {
                throw new GgufFormatException(src + ": metadata '" + labelsKey + "' names " + names.size()
                        + " labels, but tensor '" + HEAD + "' has " + labels);
            }
        } else {
            for (int i = 0; i < labels; i++) {
                names.add("LABEL_" + i);
            }
        }
        return new ClassifierConfig(arch, body, labels, names, null, null);
    }
}
