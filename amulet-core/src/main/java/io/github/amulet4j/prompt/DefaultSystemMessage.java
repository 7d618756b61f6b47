package io.github.amulet4j.prompt;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The system message a chat template inserts by itself when a conversation has none (Qwen2.5: "You are Qwen,
 * created by Alibaba Cloud. You are a helpful assistant."), found from the template as ALGORITHM.md section 1
 * says: render {@code [user: X]} and {@code [system: SENTINEL, user: X]}; when the second splits around the sentinel
 * into a prefix and a suffix that the first starts and ends with, the default is what the first has between them.
 * A template without such a default, one that rejects the system role, or one that fails to render gives none.
 */
public final class DefaultSystemMessage {

    private static final Logger LOG = LoggerFactory.getLogger(DefaultSystemMessage.class);
    static final String SYSTEM_PROBE = "AMULET-SYSTEM-PROBE-7f3c";
    static final String USER_PROBE = "AMULET-USER-PROBE-2b9e";

    private DefaultSystemMessage() {
    }

    /** The template's default system text, or empty when it has none (or it cannot be told). */
    public static Optional<String> find(ChatFormatter formatter) {
        Objects.requireNonNull(formatter, "formatter");
        String plain;
        String withSystem;
        try {
            plain = formatter.render(List.of(ChatMessage.user(USER_PROBE)), true);
            withSystem = formatter.render(List.of(ChatMessage.system(SYSTEM_PROBE), ChatMessage.user(USER_PROBE)), true);
        } catch (RuntimeException e) {
            LOG.debug("no default system message: the probe conversations do not render ({})", e.toString());
            return Optional.empty();
        }
        int at = withSystem.indexOf(SYSTEM_PROBE);
        if (at < 0 || withSystem.indexOf(SYSTEM_PROBE, at + 1) >= 0) {
            return Optional.empty();
        }
        String prefix = withSystem.substring(0, at);
        String suffix = withSystem.substring(at + SYSTEM_PROBE.length());
        if (plain.length() < prefix.length() + suffix.length() || !plain.startsWith(prefix) || !plain.endsWith(suffix)) {
            return Optional.empty();
        }
        String d = plain.substring(prefix.length(), plain.length() - suffix.length());
        if (d.isBlank()) {
            return Optional.empty();
        }
        LOG.debug("the chat template's default system message: {}", d);
        return Optional.of(d);
    }
}
