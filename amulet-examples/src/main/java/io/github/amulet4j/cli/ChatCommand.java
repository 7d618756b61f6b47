package io.github.amulet4j.cli;

import io.github.amulet4j.align.Method;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine.Command;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * {@code amulet chat}: an interactive conversation. The history is kept and rendered into both streams
 * at every turn, its oldest turns dropped (with a note on stderr) when it would outgrow the model's context;
 * {@code /pref} changes the preference mid-conversation, {@code /method} the method,
 * {@code /reset} forgets the history, {@code /exit} (or end of input) quits.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat interactively; /pref TEXT|PRESET, /method NAME, /reset, /help, /exit.")
final class ChatCommand extends ModelCommand {

    private static final String HELP = "commands: /pref TEXT|PRESET (change the preference), /pref (show it), "
            + "/method base|pref|la|amulet|beam, /reset (forget the conversation), /help, /exit";

    @Override
    public Integer call() throws Exception {
        Method method = method();
        Preference preference = options.preference == null ? null : Options.preference(options.preference);
        config(method); // validates the options before the model loads
        PrintWriter out = out();
        BufferedReader in = cli.input();
        try (AmuletModel model = loadModel()) {
            out.println("amulet chat with " + model.name() + "; method " + method.id() + ", preference: "
                    + describe(preference));
            out.println(HELP);
            Conversation conversation = Conversation.empty().withSystem(options.system);
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
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
                            conversation = Conversation.empty().withSystem(options.system);
                            out.println("(conversation cleared)");
                        }
                        case "/pref" -> {
                            if (!arg.isEmpty()) {
                                preference = Preference.of(arg);
                            }
                            out.println("(preference: " + describe(preference) + ")");
                        }
                        case "/method" -> {
                            try {
                                Method m = Method.fromName(arg);
                                config(m);
                                method = m;
                                out.println("(method: " + method.id() + ")");
                            } catch (IllegalArgumentException | UsageException e) {
                                out.println("(" + e.getMessage() + ")");
                            }
                        }
                        case "/help" -> out.println(HELP);
                        default -> out.println("(unknown command " + parts[0] + "; " + HELP + ")");
                    }
                    continue;
                }
                Method used = preference == null ? Method.BASE : method;
                if (preference == null && method != Method.BASE) {
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
                GenerationResult result = model.generate(request(asked, preference, config),
                        (request, tokenId, delta) -> {
                            out.print(delta);
                            out.flush();
                        });
                out.println();
                conversation = asked.plus(ChatMessage.assistant(result.text()));
            }
        }
        out.flush();
        return AmuletCli.OK;
    }

    private static String describe(Preference p) {
        if (p == null) {
            return "(none)";
        }
        return p.text();
    }
}
