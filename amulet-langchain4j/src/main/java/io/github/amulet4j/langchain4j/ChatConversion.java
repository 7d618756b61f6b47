package io.github.amulet4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.PromptStyle;

import java.util.ArrayList;
import java.util.List;

/** LangChain4j requests to Amulet requests and results back, shared by both chat models. */
final class ChatConversion {

    private ChatConversion() {
    }

    /**
     * The Amulet request of a LangChain4j request: system messages become the system text, user and AI
     * messages the turns; temperature 0 is greedy, a positive one samples; {@code maxOutputTokens},
     * {@code topP}, {@code topK} and {@code stopSequences} map to their Amulet settings.
     *
     * @throws IllegalArgumentException for tools, JSON response formats, non-text content, or a method that
     *                                  needs a preference when none is given
     */
    static AmuletRequest toAmulet(ChatRequest request, GenerationConfig defaults, PromptStyle style) {
        ChatRequestParameters p = request.parameters();
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            throw new IllegalArgumentException("tools are not supported by Amulet chat models");
        }
        if (p.responseFormat() != null && p.responseFormat().type() == ResponseFormatType.JSON) {
            throw new IllegalArgumentException("JSON response formats are not supported by Amulet chat models");
        }
        String preference = null;
        AlignmentMethod method = null;
        if (p instanceof AmuletChatRequestParameters a) {
            preference = a.preference() == null || a.preference().isBlank() ? null : a.preference().trim();
            method = a.method();
        }
        if (method == null) {
            method = preference == null ? AlignmentMethod.BASE : defaults.method();
        }
        if (method.needsPreference() && preference == null) {
            throw new IllegalArgumentException("method '" + method.id() + "' needs a preference "
                    + "(AmuletChatRequestParameters.preference)");
        }
        GenerationConfig.Builder cfg = defaults.toBuilder().method(method);
        if (p.maxOutputTokens() != null) {
            cfg.maxNewTokens(p.maxOutputTokens());
        }
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            cfg.stopStrings(p.stopSequences());
        }
        DecodingConfig.Builder d = defaults.decoding().toBuilder();
        if (p.temperature() != null) {
            if (p.temperature() == 0) {
                d.doSample(false);
            } else {
                d.doSample(true).temperature(p.temperature());
            }
        }
        if (p.topP() != null) {
            d.topP(p.topP());
        }
        if (p.topK() != null) {
            d.topK(p.topK());
        }
        cfg.decoding(d.build());
        AmuletRequest.Builder r = AmuletRequest.builder(conversation(request.messages())).promptStyle(style)
                .config(cfg.build());
        if (preference != null) {
            r.preference(preference);
        }
        return r.build();
    }

    private static Conversation conversation(List<ChatMessage> messages) {
        StringBuilder system = new StringBuilder();
        List<io.github.amulet4j.prompt.ChatMessage> turns = new ArrayList<>();
        for (ChatMessage m : messages) {
            if (m instanceof SystemMessage s) {
                if (system.length() > 0) {
                    system.append("\n\n");
                }
                system.append(s.text());
            } else if (m instanceof UserMessage u) {
                if (!u.hasSingleText()) {
                    throw new IllegalArgumentException("only text user messages are supported, got " + u.contents());
                }
                turns.add(io.github.amulet4j.prompt.ChatMessage.user(u.singleText()));
            } else if (m instanceof AiMessage a) {
                turns.add(io.github.amulet4j.prompt.ChatMessage.assistant(a.text() == null ? "" : a.text()));
            } else {
                throw new IllegalArgumentException("unsupported message type " + m.type());
            }
        }
        if (turns.isEmpty() || !turns.get(turns.size() - 1).role().equals("user")) {
            throw new IllegalArgumentException("the last message must be a user message");
        }
        return Conversation.of(system.length() == 0 ? null : system.toString(), turns);
    }

    static FinishReason finishReason(io.github.amulet4j.generate.FinishReason reason) {
        return switch (reason) {
            case EOS, STOP_STRING -> FinishReason.STOP;
            case MAX_NEW_TOKENS, MAX_POSITIONS -> FinishReason.LENGTH;
        };
    }

    /** Input tokens count every prompt stream the method ran (base and preference for {@code amulet}). */
    static ChatResponse response(GenerationResult r, String modelName) {
        int input = r.basePromptTokens() + r.preferencePromptTokens();
        return ChatResponse.builder().aiMessage(AiMessage.from(r.text())).modelName(modelName)
                .tokenUsage(new TokenUsage(input, r.generatedTokens(), input + r.generatedTokens()))
                .finishReason(finishReason(r.finishReason())).build();
    }
}
