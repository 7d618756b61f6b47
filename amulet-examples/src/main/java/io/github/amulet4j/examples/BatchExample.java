package io.github.amulet4j.examples;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;

import java.util.List;

/**
 * Several requests with different preferences (and methods) decoded together: all their streams go through
 * the model as one batch, one forward pass per step.
 */
public final class BatchExample {

    private BatchExample() {
    }

    public static void main(String[] args) throws Exception {
        ModelOptions options = ModelOptions.of(args.length > 0 ? args[0] : ModelOptions.DEFAULT_MODEL);
        String question = "How can I sleep better?";
        GenerationConfig amulet = GenerationConfig.builder().maxNewTokens(48).build();
        List<AmuletRequest> requests = List.of(
                AmuletRequest.builder(question).preference("concise").config(amulet).build(),
                AmuletRequest.builder(question).preference("creative").config(amulet).build(),
                AmuletRequest.builder(question).preference("Answer like a pirate.").config(amulet).build(),
                AmuletRequest.builder(question).preference("formal")
                        .config(amulet.toBuilder().method(AlignmentMethod.LA).build()).build());
        try (AmuletModel model = AmuletModel.load(options)) {
            List<GenerationResult> results = model.generate(requests);
            for (int i = 0; i < results.size(); i++) {
                System.out.println("--- " + requests.get(i).preference().orElseThrow().text());
                System.out.println(results.get(i).text());
            }
        }
    }
}
