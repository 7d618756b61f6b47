package io.github.amulet4j.generate;

import java.util.Optional;

/**
 * One request: the token ids of its base and preference prompts (only those its method needs) and,
 * optionally, its own {@link GenerationConfig} (otherwise the generator's default applies).
 */
public final class GenerationRequest {

    private final int[] basePrompt;
    private final int[] preferencePrompt;
    private final GenerationConfig config;

    private GenerationRequest(int[] basePrompt, int[] preferencePrompt, GenerationConfig config) {
        if (basePrompt == null && preferencePrompt == null) {
            throw new IllegalArgumentException("a request needs a base prompt, a preference prompt or both");
        }
        if (basePrompt != null && basePrompt.length == 0) {
            throw new IllegalArgumentException("base prompt is empty");
        }
        if (preferencePrompt != null && preferencePrompt.length == 0) {
            throw new IllegalArgumentException("preference prompt is empty");
        }
        this.basePrompt = basePrompt == null ? null : basePrompt.clone();
        this.preferencePrompt = preferencePrompt == null ? null : preferencePrompt.clone();
        this.config = config;
    }

    /** Both streams (for {@code amulet} and {@code la}; other methods use the one they need). */
    public static GenerationRequest of(int[] basePrompt, int[] preferencePrompt) {
        return new GenerationRequest(basePrompt, preferencePrompt, null);
    }

    /** Only the preference stream (for {@code pref} and {@code beam}). */
    public static GenerationRequest preferenceOnly(int[] preferencePrompt) {
        return new GenerationRequest(null, preferencePrompt, null);
    }

    /** Only the base stream (for {@code base}). */
    public static GenerationRequest baseOnly(int[] basePrompt) {
        return new GenerationRequest(basePrompt, null, null);
    }

    /** This request with its own configuration. */
    public GenerationRequest withConfig(GenerationConfig config) {
        return new GenerationRequest(basePrompt, preferencePrompt, config);
    }

    public Optional<int[]> basePrompt() {
        return Optional.ofNullable(basePrompt == null ? null : basePrompt.clone());
    }

    public Optional<int[]> preferencePrompt() {
        return Optional.ofNullable(preferencePrompt == null ? null : preferencePrompt.clone());
    }

    /** The request's own configuration, if any. */
    public Optional<GenerationConfig> config() {
        return Optional.ofNullable(config);
    }

    int[] baseIds() {
        return basePrompt;
    }

    int[] preferenceIds() {
        return preferencePrompt;
    }
}
