package io.github.amulet4j.langchain4j;


import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import io.github.amulet4j.align.AlignmentMethod;

import java.util.Objects;

/**
 * LangChain4j request parameters with Amulet's own: the {@code preference} (a preset name or free text) and
 * the {@code method}. Give them as a model's defaults ({@code defaultRequestParameters}) or per request
 * ({@code ChatRequest.builder().parameters(...)}); a request's values override the defaults, field by field.
 */
public final class AmuletChatRequestParameters extends DefaultChatRequestParameters {

    private final String preference;
    private final AlignmentMethod method;

    private AmuletChatRequestParameters(Builder b) {
        super(b);
        this.preference = b.preference;
        this.method = b.method;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The preference: a preset name ({@code concise}, {@code formal}, ...) or free text; null for none. */
    public String preference() {
        return preference;
    }

    /** The decoding method, or null for the default ({@code amulet} with a preference, else {@code base}). */
    public AlignmentMethod method() {
        return method;
    }

    @Override
    public AmuletChatRequestParameters overrideWith(ChatRequestParameters that) {
        return builder().overrideWith(this).overrideWith(that).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AmuletChatRequestParameters p && super.equals(o) && Objects.equals(preference, p.preference)
                && method == p.method;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), preference, method);
    }

    @Override
    public String toString() {
        return "AmuletChatRequestParameters{preference=" + preference + ", method=" + method + ", " + super.toString() + "}";
    }

    /** Builder of {@link AmuletChatRequestParameters}. */
    public static final class Builder extends DefaultChatRequestParameters.Builder<Builder> {
        private String preference;
        private AlignmentMethod method;

        @Override
        public Builder overrideWith(ChatRequestParameters parameters) {
            super.overrideWith(parameters);
            if (parameters instanceof AmuletChatRequestParameters a) {
                if (a.preference != null) {
                    preference = a.preference;
                }
                if (a.method != null) {
                    method = a.method;
                }
            }
            return this;
        }

        public Builder preference(String preference) {
            this.preference = preference;
            return this;
        }

        public Builder method(AlignmentMethod method) {
            this.method = method;
            return this;
        }

        @Override
        public AmuletChatRequestParameters build() {
            return new AmuletChatRequestParameters(this);
        }
    }
}
