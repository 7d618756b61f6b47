package io.github.amulet4j.eval;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.align.AmuletForm;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.decode.HistoryProcessor;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.transformer.KvCachePrecision;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.eval.reward.ScoringPlan;
import io.github.amulet4j.generate.EarlyStopping;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectStreamException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.ServiceLoader;

/**
 * An eval run: every question of a question set under every method and preference, one row per
 * (index, method, preference) ({@link EvalRows}). It holds what the rows depend on (the model, the generation
 * configuration of each method, the preferences, the prompt style and system prompt) and how the run goes (the
 * question set and output as written, {@code --limit}, {@code --batch}, {@code --overwrite}, progress, and for a
 * Spark run the master, the Spark settings and the number of tasks), and builds each row's request as
 * {@code amulet eval} does. The command line builds one from its flags; a Spark executor receives it serialized.
 *
 * <p>Immutable; build with {@link #builder()}. Serializable for a distributed run: the model options go without
 * their Hub settings and download listener, so that a plan read in another JVM resolves a Hub id with that JVM's
 * environment ({@code HF_HOME}, {@code HF_TOKEN}, ...), and a generation configuration's own
 * {@link HistoryProcessor}s go only when they are serializable themselves.
 */
public final class EvalPlan implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The most rows generated together ({@code --batch}). */
    public static final int MAX_BATCH = 256;

    private final ModelOptions model;
    private final Map<AlignmentMethod, GenerationConfig> configs;
    private final Map<String, Preference> preferences;
    private final PromptStyle promptStyle;
    private final String system;
    private final String dataset;
    private final Integer limit;
    private final String out;
    private final boolean overwrite;
    private final boolean progress;
    private final int batch;
    private final Integer partitions;
    private final String master;
    private final Map<String, String> sparkConf;
    private final ScoringPlan scoring;

    private EvalPlan(Builder b) {
        this.model = b.model;
        this.configs = Collections.unmodifiableMap(new LinkedHashMap<>(b.configs));
        this.preferences = Collections.unmodifiableMap(new LinkedHashMap<>(b.preferences));
        this.promptStyle = b.promptStyle;
        this.system = b.system;
        this.dataset = b.dataset;
        this.limit = b.limit;
        this.out = b.out;
        this.overwrite = b.overwrite;
        this.progress = b.progress;
        this.batch = b.batch;
        this.partitions = b.partitions;
        this.master = b.master;
        this.sparkConf = Collections.unmodifiableMap(new LinkedHashMap<>(b.sparkConf));
        this.scoring = b.scoring;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with this plan's values. */
    public Builder toBuilder() {
        Builder b = new Builder().model(model).promptStyle(promptStyle).system(system).dataset(dataset).out(out)
                .overwrite(overwrite).progress(progress).batch(batch).master(master);
        configs.values().forEach(b::method);
        preferences.forEach(b::preference);
        sparkConf.forEach(b::sparkConf);
        b.limit = limit;
        b.partitions = partitions;
        b.scoring = scoring;
        return b;
    }

    /** How the results are scored with a reward model once generated ({@code eval --score}), if they are. */
    public java.util.Optional<ScoringPlan> scoring() {
        return java.util.Optional.ofNullable(scoring);
    }

    /** The generation length of the methods (the largest {@code max_new_tokens}; the paper's scoring cuts to it). */
    public int maxNewTokens() {
        return configs.values().stream().mapToInt(GenerationConfig::maxNewTokens).max().orElse(0);
    }

    /** The model and how it runs. */
    public ModelOptions modelOptions() {
        return model;
    }

    /** The methods, in the order given. */
    public List<AlignmentMethod> methods() {
        return List.copyOf(configs.keySet());
    }

    /** The generation configuration of each method, in the order given. */
    public Map<AlignmentMethod, GenerationConfig> configs() {
        return configs;
    }

    /**
     * The generation configuration of {@code method}.
     *
     * @throws IllegalArgumentException when the plan does not run {@code method}
     */
    public GenerationConfig config(AlignmentMethod method) {
        GenerationConfig c = configs.get(method);
        if (c == null) {
            throw new IllegalArgumentException("method " + method.id() + " is not one of this plan's " + configs.keySet());
        }
        return c;
    }

    /** Preference name to preference, in the order given. */
    public Map<String, Preference> preferences() {
        return preferences;
    }

    /** How the preference enters the prompt. */
    public PromptStyle promptStyle() {
        return promptStyle;
    }

    /** The system prompt of every conversation, or null. */
    public String system() {
        return system;
    }

    /** The question set ({@code --dataset}) as written: a local path or a URI such as {@code hdfs://...}. */
    public String dataset() {
        return dataset;
    }

    /** Only the first N questions ({@code --limit}), when given. */
    public OptionalInt limit() {
        return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
    }

    /** Where the rows go ({@code --out}) as written. */
    public String out() {
        return out;
    }

    /** Whether the rows already in {@link #out()} are deleted first ({@code --overwrite}). */
    public boolean overwrite() {
        return overwrite;
    }

    /** Whether progress is reported ({@code --no-progress} absent). */
    public boolean progress() {
        return progress;
    }

    /** Rows generated together, one forward pass per step for all of them ({@code --batch}). */
    public int batch() {
        return batch;
    }

    /** Spark tasks of the rows to generate ({@code --partitions}), when given. */
    public OptionalInt partitions() {
        return partitions == null ? OptionalInt.empty() : OptionalInt.of(partitions);
    }

    /** The Spark master ({@code --spark}), or null for a run in this JVM. */
    public String master() {
        return master;
    }

    /** Spark settings ({@code --spark-conf KEY=VALUE}), in order. */
    public Map<String, String> sparkConf() {
        return sparkConf;
    }

    /**
     * The question set of {@link #dataset()} read from the local disk as {@code eval} reads it (the paper's JSON
     * array, {@link QuestionSet}), {@link #limit()} applied.
     *
     * @throws EvalUsageException naming {@code --dataset} when the file is not a question set or holds none
     * @throws IOException        when it cannot be read
     */
    public List<Question> questions() throws IOException {
        Path file = Path.of(dataset);
        List<Question> all;
        try {
            all = QuestionSet.read(file);
        } catch (IllegalArgumentException e) {
            throw new EvalUsageException("--dataset: " + e.getMessage(), e);
        }
        if (limit != null) {
            all = all.subList(0, Math.min(limit, all.size()));
        }
        if (all.isEmpty()) {
            throw new EvalUsageException("--dataset: " + file + " holds no questions");
        }
        return all;
    }

    /** The settings the rows depend on, as an eval run records them next to its results. */
    public EvalSettings settings() {
        return EvalSettings.of(model.model(), model.revision(), model.runtime().computeType().name().toLowerCase(Locale.ROOT),
                promptStyle.name().toLowerCase(Locale.ROOT), system, configs, preferences);
    }

    /** Loads the plan's model (no download progress unless its options have a listener). */
    public AmuletModel loadModel() throws IOException {
        return AmuletModel.load(model);
    }

    /** The request of a row: {@code question} under {@code method} (its configuration) and {@code preference}. */
    public AmuletRequest request(String question, AlignmentMethod method, Preference preference) {
        return request(question, preference, config(method));
    }

    /** The request of a row with another configuration (a short warm-up run, say). */
    public AmuletRequest request(String question, Preference preference, GenerationConfig config) {
        return AmuletRequest.builder(Conversation.of(question).withSystem(system)).preference(preference)
                .promptStyle(promptStyle).config(config).build();
    }

    /**
     * Runs this plan on Apache Spark through the {@link SparkRunner} on the class path (the amulet-spark module).
     *
     * @return the runner's exit code
     * @throws EvalUsageException when no master is set or no runner is on the class path
     */
    public int runOnSpark(PrintWriter out, PrintWriter err) throws Exception {
        if (master == null) {
            throw new EvalUsageException("--spark: no Spark master given");
        }
        List<SparkRunner> runners = new ArrayList<>();
        ServiceLoader.load(SparkRunner.class).forEach(runners::add);
        if (runners.isEmpty()) {
            throw new EvalUsageException("--spark: the amulet-spark module is not on the class path (the ./amulet launcher"
                    + " adds it and Spark when --spark is given; or use spark-submit with amulet-spark's jar)");
        }
        return runners.get(0).run(this, out, err);
    }

    @Override
    public String toString() {
        return "EvalPlan[model=" + model.model() + ", methods=" + configs.keySet() + ", preferences="
                + preferences.keySet() + ", dataset=" + dataset + ", out=" + out + ", batch=" + batch
                + (master == null ? "" : ", master=" + master) + "]";
    }

    // ---- serialization: a proxy of serializable values, the plan rebuilt from them ----

    private Object writeReplace() throws ObjectStreamException {
        return new Form(this);
    }

    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("an EvalPlan is read through its serial form");
    }

    /** The serialized plan. */
    private record Form(ModelForm model, List<ConfigForm> configs, LinkedHashMap<String, String> preferences,
                        PromptStyle promptStyle, String system, String dataset, Integer limit, String out,
                        boolean overwrite, boolean progress, int batch, Integer partitions, String master,
                        LinkedHashMap<String, String> sparkConf, ScoringForm scoring) implements Serializable {

        Form(EvalPlan p) throws NotSerializableException {
            this(ModelForm.of(p.model), configForms(p.configs), texts(p.preferences), p.promptStyle, p.system,
                    p.dataset, p.limit, p.out, p.overwrite, p.progress, p.batch, p.partitions, p.master,
                    new LinkedHashMap<>(p.sparkConf), p.scoring == null ? null : ScoringForm.of(p.scoring));
        }

        private static List<ConfigForm> configForms(Map<AlignmentMethod, GenerationConfig> configs)
                throws NotSerializableException {
            List<ConfigForm> out = new ArrayList<>();
            for (GenerationConfig c : configs.values()) {
                out.add(ConfigForm.of(c));
            }
            return out;
        }

        private static LinkedHashMap<String, String> texts(Map<String, Preference> preferences) {
            LinkedHashMap<String, String> out = new LinkedHashMap<>();
            preferences.forEach((name, p) -> out.put(name, p.text()));
            return out;
        }

        private Object readResolve() throws ObjectStreamException {
            try {
                Builder b = builder().model(model.options()).promptStyle(promptStyle).system(system).dataset(dataset)
                        .out(out).overwrite(overwrite).progress(progress).batch(batch).master(master);
                for (ConfigForm c : configs) {
                    b.method(c.config());
                }
                preferences.forEach((name, text) -> b.preference(name, new Preference(text)));
                sparkConf.forEach(b::sparkConf);
                if (limit != null) {
                    b.limit(limit);
                }
                if (partitions != null) {
                    b.partitions(partitions);
                }
                if (scoring != null) {
                    b.scoring(scoring.plan());
                }
                return b.build();
            } catch (RuntimeException e) {
                InvalidObjectException bad = new InvalidObjectException("not a valid eval plan: " + e.getMessage());
                bad.initCause(e);
                throw bad;
            }
        }
    }

    /** A {@link ScoringPlan}, its reward model as a {@link ModelForm}. */
    private record ScoringForm(ModelForm rewardModel, boolean paperFormat, boolean truncate, String objective,
                               ArrayList<String> candidates, int batch, String scoresOut) implements Serializable {

        static ScoringForm of(ScoringPlan p) throws NotSerializableException {
            return new ScoringForm(ModelForm.of(p.rewardModel()), p.paperFormat(), p.truncate(), p.objective(),
                    new ArrayList<>(p.candidates()), p.batch(), p.scoresOut());
        }

        ScoringPlan plan() {
            return ScoringPlan.builder().rewardModel(rewardModel.options()).paperFormat(paperFormat).truncate(truncate)
                    .objective(objective).candidates(candidates).batch(batch).scoresOut(scoresOut).build();
        }
    }

    /** {@link ModelOptions} but its Hub settings and download listener. */
    private record ModelForm(String model, String revision, String deviceType, int deviceId, DataType computeType,
                             boolean useKvCache, String checkpointName, int initialCacheCapacity, int productThreads,
                             RuntimeOptions.LinearKernel linearKernel, RuntimeOptions.Weights weights,
                             int prefillChunk, Kernels kernels, KvCachePrecision kvCache) implements Serializable {

        static ModelForm of(ModelOptions o) throws NotSerializableException {
            RuntimeOptions r = o.runtime();
            Device d = r.device();
            if (d.getClass() != Device.class) {
                throw new NotSerializableException("an eval plan on " + d + " (" + d.getClass().getName()
                        + "): only a single CPU or GPU device goes to another JVM");
            }
            return new ModelForm(o.model(), o.revision(), d.getDeviceType(), d.getDeviceId(), r.computeType(),
                    r.useKvCache(), r.checkpointName(), r.initialCacheCapacity(), r.productThreads(), r.linearKernel(),
                    r.weights(), r.prefillChunk(), r.kernels(), r.kvCache());
        }

        ModelOptions options() {
            return ModelOptions.builder().model(model).revision(revision).runtime(r -> r
                    .device(Device.of(deviceType, deviceId)).computeType(computeType).useKvCache(useKvCache)
                    .checkpointName(checkpointName).initialCacheCapacity(initialCacheCapacity)
                    .productThreads(productThreads).linearKernel(linearKernel).weights(weights)
                    .prefillChunk(prefillChunk).kernels(kernels == null ? Kernels.AUTO : kernels)
                    .kvCache(kvCache == null ? KvCachePrecision.F32 : kvCache)).build();
        }
    }

    /** A {@link GenerationConfig}, its processors only when serializable. */
    private record ConfigForm(int maxNewTokens, ArrayList<String> stopStrings, ArrayList<Integer> eosTokenIds,
                              AlignmentMethod method, int iterations, double eta, double alpha, double lambda,
                              AmuletForm amuletForm, double rho, int numBeams, double lengthPenalty,
                              EarlyStopping earlyStopping, boolean doSample, double temperature, int topK, double topP,
                              double minP, double repetitionPenalty, int noRepeatNgramSize, Long seed,
                              ArrayList<HistoryProcessor> beforeStep, ArrayList<HistoryProcessor> afterStep)
            implements Serializable {

        static ConfigForm of(GenerationConfig c) throws NotSerializableException {
            AmuletParameters a = c.amulet();
            DecodingConfig d = c.decoding();
            return new ConfigForm(c.maxNewTokens(), new ArrayList<>(c.stopStrings()), new ArrayList<>(c.eosTokenIds()),
                    c.method(), a.iterations(), a.eta(), a.alpha(), a.lambda(), c.amuletForm(), c.rho(), c.numBeams(),
                    c.lengthPenalty(), c.earlyStopping(), d.doSample(), d.temperature(), d.topK(), d.topP(), d.minP(),
                    d.repetitionPenalty(), d.noRepeatNgramSize(), d.seed().isPresent() ? d.seed().getAsLong() : null,
                    processors(c.processorsBeforeStep()), processors(c.processorsAfterStep()));
        }

        private static ArrayList<HistoryProcessor> processors(List<HistoryProcessor> processors)
                throws NotSerializableException {
            for (HistoryProcessor p : processors) {
                if (!(p instanceof Serializable)) {
                    throw new NotSerializableException("an eval plan's generation configuration has a processor that"
                            + " is not Serializable, so it cannot go to another JVM: " + p.getClass().getName());
                }
            }
            return new ArrayList<>(processors);
        }

        GenerationConfig config() {
            DecodingConfig.Builder d = DecodingConfig.builder().doSample(doSample).temperature(temperature).topK(topK)
                    .topP(topP).minP(minP).repetitionPenalty(repetitionPenalty).noRepeatNgramSize(noRepeatNgramSize);
            if (seed != null) {
                d.seed(seed);
            }
            return GenerationConfig.builder().maxNewTokens(maxNewTokens).stopStrings(stopStrings)
                    .eosTokenIds(eosTokenIds).method(method)
                    .amulet(AmuletParameters.builder().iterations(iterations).eta(eta).alpha(alpha).lambda(lambda).build())
                    .amuletForm(amuletForm).rho(rho).numBeams(numBeams).lengthPenalty(lengthPenalty)
                    .earlyStopping(earlyStopping).decoding(d.build())
                    .processorsBeforeStep(beforeStep).processorsAfterStep(afterStep).build();
        }
    }

    /**
     * Builder of {@link EvalPlan}; each setter validates its argument ({@link EvalUsageException} naming the
     * option of {@code amulet eval}). Needed: at least one method ({@link #method}), at least one preference, the
     * question set and the output. Defaults: {@link ModelOptions#defaults()}, {@link PromptStyle#DEFAULT}, no system
     * prompt, all questions, batch 1, progress on, no overwrite, no Spark master.
     */
    public static final class Builder {
        private ModelOptions model = ModelOptions.defaults();
        private final Map<AlignmentMethod, GenerationConfig> configs = new LinkedHashMap<>();
        private final Map<String, Preference> preferences = new LinkedHashMap<>();
        private PromptStyle promptStyle = PromptStyle.DEFAULT;
        private String system;
        private String dataset;
        private Integer limit;
        private String out;
        private boolean overwrite;
        private boolean progress = true;
        private int batch = 1;
        private Integer partitions;
        private String master;
        private final Map<String, String> sparkConf = new LinkedHashMap<>();
        private ScoringPlan scoring;

        private Builder() {
        }

        /** Score the results with a reward model once generated (null: not scored). */
        public Builder scoring(ScoringPlan scoring) {
            this.scoring = scoring;
            return this;
        }

        /** The model and how it runs. */
        public Builder model(ModelOptions model) {
            this.model = Objects.requireNonNull(model, "model");
            return this;
        }

        /** Adds a method with its configuration (the method is {@code config.method()}; a method given again is replaced in place). */
        public Builder method(GenerationConfig config) {
            configs.put(Objects.requireNonNull(config, "config").method(), config);
            return this;
        }

        /** Adds a named preference (a name given again is replaced in place). */
        public Builder preference(String name, Preference preference) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new EvalUsageException("a preference needs a name, got an empty one");
            }
            preferences.put(name, Objects.requireNonNull(preference, "preference"));
            return this;
        }

        public Builder promptStyle(PromptStyle promptStyle) {
            this.promptStyle = Objects.requireNonNull(promptStyle, "promptStyle");
            return this;
        }

        /** The system prompt of every conversation; null for none. */
        public Builder system(String system) {
            this.system = system;
            return this;
        }

        /** The question set as written: a local path, or for a Spark run any path or URI Spark reads. */
        public Builder dataset(String dataset) {
            this.dataset = dataset;
            return this;
        }

        /** Only the first {@code limit} questions. */
        public Builder limit(int limit) {
            if (limit < 1) {
                throw new EvalUsageException("--limit: must be >= 1, got " + limit);
            }
            this.limit = limit;
            return this;
        }

        /** Where the rows go: a JSON-lines file, or for a Spark run a directory (any path or URI Spark writes). */
        public Builder out(String out) {
            this.out = out;
            return this;
        }

        public Builder overwrite(boolean overwrite) {
            this.overwrite = overwrite;
            return this;
        }

        public Builder progress(boolean progress) {
            this.progress = progress;
            return this;
        }

        /** Rows generated together, in [1, {@value #MAX_BATCH}]. */
        public Builder batch(int batch) {
            if (batch < 1 || batch > MAX_BATCH) {
                throw new EvalUsageException("--batch: must be in [1, " + MAX_BATCH + "], got " + batch);
            }
            this.batch = batch;
            return this;
        }

        /** Spark tasks of the rows to generate. */
        public Builder partitions(int partitions) {
            if (partitions < 1) {
                throw new EvalUsageException("--partitions: must be >= 1, got " + partitions);
            }
            this.partitions = partitions;
            return this;
        }

        /** The Spark master ({@code local[2]}, {@code spark://host:7077}, {@code yarn}, ...); null: no Spark. */
        public Builder master(String master) {
            this.master = master;
            return this;
        }

        /** A Spark setting. */
        public Builder sparkConf(String key, String value) {
            Objects.requireNonNull(key, "key");
            if (key.isBlank()) {
                throw new EvalUsageException("--spark-conf: expected KEY=VALUE, got an empty key");
            }
            sparkConf.put(key, Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * The plan.
         *
         * @throws EvalUsageException when no method, no preference, no question set or no output is given
         */
        public EvalPlan build() {
            if (configs.isEmpty()) {
                throw new EvalUsageException("--methods: no method given");
            }
            if (preferences.isEmpty()) {
                throw new EvalUsageException("no preference: give --preferences (preset names) and/or --preference-file");
            }
            if (dataset == null || dataset.isBlank()) {
                throw new EvalUsageException("--dataset: no question set given");
            }
            if (out == null || out.isBlank()) {
                throw new EvalUsageException("--out: no output given");
            }
            return new EvalPlan(this);
        }
    }
}
