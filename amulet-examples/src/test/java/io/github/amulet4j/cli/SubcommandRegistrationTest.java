package io.github.amulet4j.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A command line registers only the subcommand it names; help, the version and unknown commands see all of them. */
class SubcommandRegistrationTest {

    private static final Set<String> ALL = Set.of("generate", "chat", "compare", "eval", "prompt", "models",
            "random-model", "bench", "serve", "judge", "score", "help");

    private static Set<String> registered(String... args) {
        return AmuletCli.commandLine(new StringReader(""), Map.of(), args).getSubcommands().keySet();
    }

    @Test
    void onlyTheNamedSubcommandIsRegistered() {
        assertEquals(Set.of("generate"), registered("generate", "--model", "m", "hi"));
        assertEquals(Set.of("random-model"), registered("random-model", "--help"));
        for (List<String> args : List.of(List.<String>of(), List.of("--help"), List.of("help", "generate"),
                List.of("nonsense"), List.of("-V"))) {
            assertEquals(ALL, registered(args.toArray(String[]::new)), args.toString());
        }
        assertEquals(ALL, AmuletCli.commandLine(new StringReader("")).getSubcommands().keySet());
    }

    @Test
    void helpOfACommandAndAnUnknownCommandStillWork() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = AmuletCli.execute(new String[] {"help", "generate"}, new StringReader(""), Map.of(),
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("--max-new-tokens"), out.toString());
        code = AmuletCli.execute(new String[] {"generat"}, new StringReader(""), Map.of(),
                new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertEquals(AmuletCli.USAGE, code);
        assertTrue(err.toString().contains("Unmatched argument at index 0: 'generat'"), err.toString());
        CommandLine one = AmuletCli.commandLine(new StringReader(""), Map.of(), new String[] {"generate"});
        assertTrue(one.getSubcommands().get("generate").isCaseInsensitiveEnumValuesAllowed());
    }
}
