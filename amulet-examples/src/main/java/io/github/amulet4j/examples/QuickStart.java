package io.github.amulet4j.examples;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;

/**
 * Load a model, answer one question with a preference. Run with a model folder or Hub id as the argument
 * (default {@code Qwen/Qwen2.5-0.5B-Instruct}; {@code ./amulet random-model --out /tmp/tiny} writes an offline one).
 */
public final class QuickStart {

    private QuickStart() {
    }

    public static void main(String[] args) throws Exception {
        ModelOptions options = ModelOptions.of(args.length > 0 ? args[0] : ModelOptions.DEFAULT_MODEL);
        try (AmuletModel model = AmuletModel.load(options)) {
            GenerationConfig config = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(64).build();
            GenerationResult result = model.generate("What is the ozone layer?", Preference.of("concise"), config);
            System.out.println(result.text());
            System.out.println("(" + result.generatedTokens() + " tokens, " + result.finishReason() + ")");
        }
    }
}
