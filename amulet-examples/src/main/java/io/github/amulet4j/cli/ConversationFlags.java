package io.github.amulet4j.cli;

import io.github.amulet4j.prompt.PromptStyle;
import picocli.CommandLine.Option;

/** How the conversation is rendered ({@code --system}, {@code --prompt-style}): a mixin of the commands that prompt. */
public final class ConversationFlags {

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt of the conversation.")
    String system;

    @Option(names = "--prompt-style", paramLabel = "default|paper", defaultValue = "default",
            description = "How the preference enters the prompt: 'default' appends it to the system message, "
                    + "'paper' uses the paper's system prompt wrapper (default: ${DEFAULT-VALUE}).")
    String promptStyle;

    /** {@code --prompt-style}, checked. */
    PromptStyle promptStyle() {
        return Options.promptStyle(promptStyle);
    }
}
