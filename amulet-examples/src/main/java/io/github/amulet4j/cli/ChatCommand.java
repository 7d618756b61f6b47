package io.github.amulet4j.cli;

import io.github.amulet4j.formats.json.Json;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.GenerationStats;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code amulet chat}: an interactive conversation. The history is kept and rendered into both streams
 * at every turn, its oldest turns dropped (with a note on stderr) when it would outgrow the model's context;
 * {@code /pref} changes the preference mid-conversation, {@code /method} the method,
 * {@code /save FILE} writes the conversation as JSON, {@code /reset} forgets the history, {@code /exit}
 * (or end of input) quits. On a terminal lines can be edited and recalled, and Ctrl-C stops an answer.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat interactively; /pref TEXT|PRESET, /method NAME, /save FILE, /reset, /help, /exit. "
                + "On a terminal: line editing and history; Ctrl-C stops the answer being written.")
final class ChatCommand extends GeneratingCommand {

    private static final String HELP = "commands: /pref TEXT|PRESET (change the preference), /pref (show it), "
            + "/method base|pref|la|amulet|beam (change it), /method (show it), /save FILE (the conversation as JSON), "
            + "/reset (forget the conversation), /help, /exit";

    @Mixin
    PreferenceFlags preferenceFlags;

    @Mixin
    MethodFlag methodFlag;

    /** Thrown from the token listener to stop an answer the user interrupted. */
    private static final class AnswerStopped extends RuntimeException {
        AnswerStopped() {
            super("answer stopped", null, false, false);
        }
    }

    @Override
    public Integer call() throws Exception {
        AlignmentMethod method = methodFlag.method();
        Preference preference = preferenceFlags.preferenceOrNull();
        config(method); // validates the options before the model loads
        try (AmuletModel model = loadModel();
             ChatLines lines = cli.isStandardStreams() && System.console() != null ? ChatLines.terminal()
                     : ChatLines.plain(cli.input(), out())) {
            PrintWriter out = lines.out();
            out.println("amulet chat with " + model.name() + "; method " + method.id() + ", preference: "
                    + describe(preference));
            out.println(HELP);
            Conversation conversation = Conversation.empty().withSystem(conversationFlags.system);
            while (true) {
                String line = lines.readLine("> ");
                if (line == null) {
                    out.println();
                    break;
                }
                line = line.strip();
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("/")) {
                    String[] parts = line.split("\\s+", 2);
                    String arg = parts.length > 1 ? parts[1].strip() : "";
                    switch (parts[0].toLowerCase(Locale.ROOT)) {
                        case "/exit", "/quit" -> {
                            out.flush();
                            return AmuletCli.OK;
                        }
                        case "/reset" -> {
                            conversation = Conversation.empty().withSystem(conversationFlags.system);
                            out.println("(conversation cleared)");
                        }
                        case "/pref" -> {
                            try {
                                if (!arg.isEmpty()) {
                                    preference = Options.preference(arg, "/pref");
                                }
                                out.println("(preference: " + describe(preference) + ")");
                            } catch (UsageException e) {
                                out.println("(" + e.getMessage() + ")");
                            }
                        }
                        case "/method" -> {
                            if (arg.isEmpty()) {
                                out.println("(method: " + method.id() + ")");
                                break;
                            }
                            try {
                                AlignmentMethod m = Options.method(arg, "/method");
                                config(m);
                                method = m;
                                out.println("(method: " + method.id() + ")");
                            } catch (UsageException e) {
                                out.println("(" + e.getMessage() + ")");
                            }
                        }
                        case "/save" -> {
                            if (arg.isEmpty()) {
                                out.println("(/save needs a file name)");
                                break;
                            }
                            try {
                                Path file = Path.of(arg);
                                Files.writeString(file, Json.write(saved(model, method, preference, conversation))
                                        + System.lineSeparator(), StandardCharsets.UTF_8);
                                out.println("(conversation saved to " + file + ")");
                            } catch (IOException | RuntimeException e) {
                                out.println("(cannot save to " + arg + ": " + AmuletCli.describe(e) + ")");
                            }
                        }
                        case "/help" -> out.println(HELP);
                        default -> out.println("(unknown command " + parts[0] + "; " + HELP + ")");
                    }
                    continue;
                }
                AlignmentMethod used = preference == null ? AlignmentMethod.BASE : method;
                if (preference == null && method != AlignmentMethod.BASE) {
                    out.println("(no preference yet: answering with base; set one with /pref)");
                }
                Conversation asked = conversation.plus(ChatMessage.user(line));
                GenerationConfig config = config(used);
                Conversation fitted;
                try {
                    fitted = model.fitToContext(request(asked, preference, config));
                } catch (IllegalArgumentException e) {
                    err().println("(this turn does not fit: " + e.getMessage() + "; it was not sent)");
                    err().flush();
                    continue;
                }
                int dropped = asked.turns().size() - fitted.turns().size();
                if (dropped > 0) {
                    err().println("(the conversation outgrew the model's context of " + model.maxPositions()
                            + " positions: the " + dropped + " oldest turns were dropped; the system text and the"
                            + " preference are kept)");
                    err().flush();
                }
                asked = fitted;
                lines.stopRequested().set(false);
                try {
                    GenerationResult result = model.generate(request(asked, preference, config),
                            (request, tokenId, delta) -> {
                                if (lines.stopRequested().get()) {
                                    throw new AnswerStopped();
                                }
                                out.print(delta);
                                out.flush();
                            });
                    out.println();
                    if (verbose.verbose()) {
                        GenerationStats st = result.stats();
                        err().printf(Locale.ROOT, "(prompt %d tokens: %d reused from the prompt cache, %d prefilled;"
                                + " first token after %.0f ms)%n", st.promptTokens(), st.promptTokensReused(),
                                st.promptTokensPrefilled(), st.timeToFirstTokenNanos() / 1e6);
                        err().flush();
                    }
                    conversation = asked.plus(ChatMessage.assistant(result.text()));
                } catch (AnswerStopped stopped) {
                    // the unfinished answer is not part of the conversation: the question can be asked again
                    out.println();
                    out.println("(answer stopped; it is not kept in the conversation)");
                }
            }
            out.flush();
        }
        return AmuletCli.OK;
    }

    /** The conversation as {@code /save} writes it. */
    static JsonObject saved(AmuletModel model, AlignmentMethod method, Preference preference, Conversation conversation) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model.name());
        o.addProperty("method", method.id());
        o.addProperty("preference", preference == null ? null : preference.text());
        JsonArray messages = new JsonArray();
        for (ChatMessage m : conversation.messages()) {
            JsonObject msg = new JsonObject();
            msg.addProperty("role", m.role());
            msg.addProperty("content", m.content());
            messages.add(msg);
        }
        o.add("messages", messages);
        return o;
    }

    private static String describe(Preference p) {
        if (p == null) {
            return "(none)";
        }
        return p.text();
    }
}
