package io.github.amulet4j.langchain4j;

import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.BatchingOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The LangChain4j chat models against the library's own answers on a random tiny model. */
class AmuletChatModelsTest {

    @TempDir
    Path dir;

    static GenerationResult alone(AmuletModel model, Conversation c, String preference, AlignmentMethod method, int tokens) {
        AmuletRequest.Builder b = AmuletRequest.builder(c).config(GenerationConfig.builder().method(method)
                .maxNewTokens(tokens).decoding(DecodingConfig.greedy()).build());
        if (preference != null) {
            b.preference(preference);
        }
        return model.generate(b.build(), TokenListener.NONE);
    }

    static FinishReason reason(GenerationResult r) {
        return r.finishReason() == io.github.amulet4j.generate.FinishReason.EOS ? FinishReason.STOP : FinishReason.LENGTH;
    }

    @Test
    void chatAndStreamingAnswersAreTheLibrarysWithUsageAndFinishReason() throws Exception {
        Path folder = dir.resolve("tiny");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 9, SafetensorsDtype.F32);
        try (AmuletModel model = AmuletModel.load(ModelOptions.of(folder))) {
            Conversation question = Conversation.of("What is rain?").withSystem("Be brief.");
            GenerationResult concise = alone(model, question, "concise", AlignmentMethod.AMULET, 6);
            GenerationResult pirate = alone(model, question, "Answer like a pirate.", AlignmentMethod.LA, 5);
            GenerationResult plain = alone(model, question, null, AlignmentMethod.BASE, 4);
            try (AmuletBatcher batcher = model.batcher(BatchingOptions.defaults())) {
                AmuletChatModel chat = AmuletChatModel.builder(batcher)
                        .defaultRequestParameters(AmuletChatRequestParameters.builder().preference("concise")
                                .temperature(0.0).maxOutputTokens(6).build())
                        .build();
                ChatRequest byDefault = ChatRequest.builder()
                        .messages(SystemMessage.from("Be brief."), UserMessage.from("What is rain?")).build();
                ChatResponse r = chat.chat(byDefault);
                assertEquals(concise.text(), r.aiMessage().text());
                assertEquals(concise.generatedTokens(), r.tokenUsage().outputTokenCount());
                assertEquals(concise.basePromptTokens() + concise.preferencePromptTokens(),
                        r.tokenUsage().inputTokenCount());
                assertEquals(reason(concise), r.finishReason());

                // per request: another preference and method
                ChatRequest overridden = byDefault.toBuilder().parameters(AmuletChatRequestParameters.builder()
                        .preference("Answer like a pirate.").method(AlignmentMethod.LA).maxOutputTokens(5).build()).build();
                assertEquals(pirate.text(), chat.chat(overridden).aiMessage().text());

                AmuletChatModel noPreference = AmuletChatModel.builder(batcher).build();
                ChatRequest plainRequest = byDefault.toBuilder().parameters(AmuletChatRequestParameters.builder()
                        .temperature(0.0).maxOutputTokens(4).build()).build();
                assertEquals(plain.text(), noPreference.chat(plainRequest).aiMessage().text());
                ChatRequest amuletWithout = byDefault.toBuilder().parameters(AmuletChatRequestParameters.builder()
                        .method(AlignmentMethod.AMULET).build()).build();
                assertTrue(assertThrows(IllegalArgumentException.class, () -> noPreference.chat(amuletWithout))
                        .getMessage().contains("needs a preference"));
                ChatRequest withTools = byDefault.toBuilder().parameters(AmuletChatRequestParameters.builder()
                        .toolSpecifications(ToolSpecification.builder().name("f").build()).build()).build();
                assertThrows(IllegalArgumentException.class, () -> chat.chat(withTools));

                AmuletStreamingChatModel streaming = AmuletStreamingChatModel.builder(batcher)
                        .defaultRequestParameters(AmuletChatRequestParameters.builder().preference("concise")
                                .temperature(0.0).maxOutputTokens(6).build())
                        .build();
                StringBuilder partial = new StringBuilder();
                CompletableFuture<ChatResponse> done = new CompletableFuture<>();
                streaming.chat(byDefault, new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String text) {
                        partial.append(text);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
                ChatResponse streamed = done.get(30, TimeUnit.SECONDS);
                assertEquals(concise.text(), partial.toString());
                assertEquals(concise.text(), streamed.aiMessage().text());
                assertEquals(concise.generatedTokens(), streamed.tokenUsage().outputTokenCount());
                assertEquals(reason(concise), streamed.finishReason());

                CompletableFuture<Throwable> failed = new CompletableFuture<>();
                AmuletStreamingChatModel.builder(batcher).build().chat(amuletWithout, new StreamingChatResponseHandler() {
                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        failed.complete(null);
                    }

                    @Override
                    public void onError(Throwable error) {
                        failed.complete(error);
                    }
                });
                assertTrue(failed.get(30, TimeUnit.SECONDS) instanceof IllegalArgumentException);
            }
        }
    }
}
