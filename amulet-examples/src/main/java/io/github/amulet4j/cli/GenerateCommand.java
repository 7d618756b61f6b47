package io.github.amulet4j.cli;

import io.github.amulet4j.formats.json.Json;

import io.github.amulet4j.eval.judge.Answer;

import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

/** {@code amulet generate QUESTION}: streams the answer, or prints one JSON object with {@code --json}. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Answer one question with a preference, printing tokens as they are chosen.")
final class GenerateCommand extends GeneratingCommand {

    @Mixin
    PreferenceFlags preference;

    @Mixin
    MethodFlag methodFlag;

    @Parameters(paramLabel = "QUESTION", description = "The user message.")
    String question;

    @Option(names = "--json", description = "Print one JSON object (text, token_ids, method, model, preference, "
            + "prompt_tokens, new_tokens, seconds) instead of streaming text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        AlignmentMethod method = methodFlag.method();
        GenerationConfig config = config(method);
        Preference preference = method == AlignmentMethod.BASE ? this.preference.preferenceOrNull() : this.preference.required();
        Conversation conversation = conversationOf(question);
        PrintWriter out = out();
        try (AmuletModel model = loadModel()) {
            TokenListener listener = json ? TokenListener.NONE : (request, tokenId, delta) -> {
                out.print(delta);
                out.flush();
            };
            long start = System.nanoTime();
            GenerationResult result = model.generate(request(conversation, preference, config), listener);
            long nanos = System.nanoTime() - start;
            if (json) {
                out.println(Json.write(resultJson(model, method, preference, result, nanos)));
            } else {
                out.println();
            }
            out.flush();
        }
        return AmuletCli.OK;
    }

    /** The {@code --json} object of issue 4. */
    static JsonObject resultJson(AmuletModel model, AlignmentMethod method, Preference preference, GenerationResult result,
                                 long nanos) {
        JsonObject o = new JsonObject();
        o.addProperty("text", result.text());
        o.add("token_ids", Json.ids(result.tokenIds()));
        o.addProperty("method", method.id());
        o.addProperty("model", model.name());
        o.addProperty("preference", preference == null ? null : preference.text());
        o.addProperty("prompt_tokens", promptTokens(method, result));
        o.addProperty("new_tokens", result.generatedTokens());
        o.addProperty("seconds", Json.seconds(nanos));
        o.addProperty("finish_reason", result.finishReason().name().toLowerCase(java.util.Locale.ROOT));
        return o;
    }

    /** The prompt length of the stream the method decodes from (the preference stream unless {@code base}). */
    static int promptTokens(AlignmentMethod method, GenerationResult result) {
        return method == AlignmentMethod.BASE ? result.basePromptTokens() : result.preferencePromptTokens();
    }
}
