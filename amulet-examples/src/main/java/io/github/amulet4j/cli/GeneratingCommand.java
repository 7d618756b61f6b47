package io.github.amulet4j.cli;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine.Mixin;

import java.io.IOException;

/**
 * What the commands that load weights and generate share ({@code generate}, {@code chat}, {@code compare},
 * {@code eval}): the runtime, generation and conversation flags, loading with download progress, requests.
 */
abstract class GeneratingCommand extends ModelCommand {

    @Mixin
    RuntimeFlags runtimeFlags;

    @Mixin
    SharedOptions options;

    @Mixin
    ConversationFlags conversationFlags;

    @Override
    RuntimeOptions runtime() {
        return runtimeFlags.runtime();
    }

    /**
     * Loads the model named by {@code --model}, drawing a progress bar on stderr for each file a Hub id
     * downloads; load failures are run-time failures (exit 1).
     */
    AmuletModel loadModel() throws IOException {
        try (DownloadProgressBars progress = new DownloadProgressBars(err(), cli.stderrIsTerminal(), cli.noColor())) {
            return AmuletModel.load(modelOptions().toBuilder().downloadListener(progress).build());
        }
    }

    GenerationConfig config(AlignmentMethod method) {
        return Options.generation(options, method);
    }

    /** A request for the conversation with the {@code --prompt-style} of the flags. */
    AmuletRequest request(Conversation conversation, Preference preference, GenerationConfig config) {
        return AmuletRequest.builder(conversation).preference(preference)
                .promptStyle(conversationFlags.promptStyle()).config(config).build();
    }

    /** A conversation of one user message with the {@code --system} prompt. */
    Conversation conversationOf(String question) {
        return Conversation.of(Options.question(question)).withSystem(conversationFlags.system);
    }
}
