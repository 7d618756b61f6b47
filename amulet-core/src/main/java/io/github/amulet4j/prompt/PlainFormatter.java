package io.github.amulet4j.prompt;

import java.util.ArrayList;
import java.util.List;

/**
 * The fallback for a model with no chat template: the system text (all system messages joined with
 * {@code " "}), then the other turns' contents, all separated by {@code "\n\n"}. For one user turn that is
 * {@code S + "\n\n" + question}, or just the question. Roles and the generation prompt leave no trace.
 */
public final class PlainFormatter implements ChatFormatter {

    public static final PlainFormatter INSTANCE = new PlainFormatter();

    private PlainFormatter() {
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<String> system = new ArrayList<>();
        List<String> parts = new ArrayList<>();
        for (ChatMessage m : messages) {
            if ("system".equals(m.role())) {
                system.add(m.content());
            } else {
                parts.add(m.content());
            }
        }
        if (!system.isEmpty()) {
            parts.add(0, String.join(" ", system));
        }
        return String.join("\n\n", parts);
    }
}
