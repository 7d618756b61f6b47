package io.github.amulet4j.cli;

import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;

/** Runs the command line in this JVM with captured streams. */
record CliRun(int exitCode, String out, String err) {

    static CliRun run(String... args) {
        return runWithInput("", args);
    }

    static CliRun runWithInput(String input, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmuletCli.execute(args, new StringReader(input), o, e);
        }
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Runs the command line seeing {@code environment} instead of the process's (e.g. a temporary Hub cache). */
    static CliRun runWithEnvironment(java.util.Map<String, String> environment, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmuletCli.execute(args, new StringReader(""), environment, o, e);
        }
        return new CliRun(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
    }
}
