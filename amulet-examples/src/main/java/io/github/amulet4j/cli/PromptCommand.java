package io.github.amulet4j.cli;

import io.github.amulet4j.formats.json.Json;

import com.google.gson.JsonObject;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.PromptRenderer;
import io.github.amulet4j.djl.TokenizedPrompt;
import io.github.amulet4j.djl.PromptPair;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

/**
 * {@code amulet prompt QUESTION}: the two rendered prompts exactly as the model sees them. Reads only
 * {@code config.json} and the tokenizer files, never the weights.
 */
@Command(name = "prompt", mixinStandardHelpOptions = true,
        description = "Show the base and preference prompts as the model will see them (text and token ids); "
                + "reads no weights.")
final class PromptCommand extends ModelCommand {

    @Mixin
    PreferenceFlags preference;

    @Mixin
    ConversationFlags conversation;

    @Parameters(paramLabel = "QUESTION", description = "The user message.")
    String question;

    @Option(names = "--json", description = "Print {\"base\": {\"text\", \"token_ids\"}, \"preference\": {\"text\", "
            + "\"token_ids\"}} (and \"template_default_system\" when the chat template has a default system message).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Preference preference = this.preference.required();
        PromptStyle style = conversation.promptStyle();
        PromptRenderer renderer = PromptRenderer.load(modelOptions());
        PromptPair prompts = renderer.render(
                Conversation.of(Options.question(question)).withSystem(conversation.system), preference, style);
        // the template's own default system message is the S of both streams when the conversation has none
        Optional<String> templateDefault = conversation.system == null && style == PromptStyle.DEFAULT
                ? renderer.defaultSystem() : Optional.empty();
        PrintWriter out = out();
        if (json) {
            JsonObject o = new JsonObject();
            o.add("base", streamJson(prompts.base()));
            o.add("preference", streamJson(prompts.preference()));
            templateDefault.ifPresent(d -> o.addProperty("template_default_system", d));
            out.println(Json.write(o));
        } else {
            templateDefault.ifPresent(d -> out.println("(the chat template's default system message, "
                    + "kept in the preference stream before the preference: \"" + d + "\")"));
            print(out, "base", prompts.base());
            print(out, "preference", prompts.preference());
        }
        out.flush();
        return AmuletCli.OK;
    }

    private static JsonObject streamJson(TokenizedPrompt p) {
        JsonObject o = new JsonObject();
        o.addProperty("text", p.text());
        o.add("token_ids", Json.ids(p.tokenIds()));
        return o;
    }

    private static void print(PrintWriter out, String name, TokenizedPrompt p) {
        out.println("=== " + name + " stream (" + p.tokenIds().length + " tokens) ===");
        out.println(p.text());
        out.println("--- token ids ---");
        out.println(Json.write(Json.ids(p.tokenIds())));
    }
}
