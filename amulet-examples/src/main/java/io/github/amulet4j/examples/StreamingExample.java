package io.github.amulet4j.examples;

import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.Preference;

/** Stream an answer token by token to a callback, continuing a conversation with a system prompt. */
public final class StreamingExample {

    private StreamingExample() {
    }

    public static void main(String[] args) throws Exception {
        ModelOptions options = ModelOptions.of(args.length > 0 ? args[0] : ModelOptions.DEFAULT_MODEL);
        try (AmuletModel model = AmuletModel.load(options)) {
            Conversation conversation = Conversation.of("Explain how vaccines work.")
                    .withSystem("You are a science teacher.");
            TokenListener printer = (request, tokenId, textDelta) -> {
                System.out.print(textDelta);
                System.out.flush();
            };
            model.generate(conversation, Preference.of("Explain it to a ten-year-old."),
                    GenerationConfig.builder().maxNewTokens(96).build(), printer);
            System.out.println();
        }
    }
}
