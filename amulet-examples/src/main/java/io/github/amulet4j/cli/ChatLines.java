package io.github.amulet4j.cli;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where {@code chat} reads the user's lines. On a terminal: JLine, with line editing, a history kept in
 * {@code ~/.cache/amulet/chat-history} (arrow keys, Ctrl-R), and Ctrl-C that stops the answer being written
 * instead of ending the session (at the prompt it clears the line). Elsewhere (a pipe, a test): plain lines.
 */
interface ChatLines extends AutoCloseable {

    /** The next line, or null at the end of input (Ctrl-D, end of the pipe). */
    String readLine(String prompt) throws IOException;

    /** Set while an answer is written when the user asks to stop it (Ctrl-C on a terminal). */
    AtomicBoolean stopRequested();

    /** Where the answer is written. */
    PrintWriter out();

    @Override
    void close() throws IOException;

    /** Plain lines from {@code in}, prompts and answers on {@code out}. */
    static ChatLines plain(BufferedReader in, PrintWriter out) {
        AtomicBoolean stop = new AtomicBoolean();
        return new ChatLines() {
            @Override
            public String readLine(String prompt) throws IOException {
                out.print(prompt);
                out.flush();
                return in.readLine();
            }

            @Override
            public AtomicBoolean stopRequested() {
                return stop;
            }

            @Override
            public PrintWriter out() {
                return out;
            }

            @Override
            public void close() {
            }
        };
    }

    /** JLine on the process's terminal. */
    static ChatLines terminal() throws IOException {
        Terminal terminal = TerminalBuilder.builder().system(true).build();
        Path history = Path.of(System.getProperty("user.home"), ".cache", "amulet", "chat-history");
        try {
            Files.createDirectories(history.getParent());
        } catch (IOException e) {
            // history stays in memory
        }
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("amulet")
                .variable(LineReader.HISTORY_FILE, history).build();
        AtomicBoolean stop = new AtomicBoolean();
        terminal.handle(Terminal.Signal.INT, signal -> stop.set(true));
        PrintWriter out = terminal.writer();
        return new ChatLines() {
            @Override
            public String readLine(String prompt) {
                while (true) {
                    try {
                        stop.set(false);
                        return reader.readLine(prompt);
                    } catch (UserInterruptException e) {
                        out.println("(Ctrl-D or /exit ends the chat)");
                    } catch (EndOfFileException e) {
                        return null;
                    }
                }
            }

            @Override
            public AtomicBoolean stopRequested() {
                return stop;
            }

            @Override
            public PrintWriter out() {
                return out;
            }

            @Override
            public void close() throws IOException {
                try {
                    reader.getHistory().save();
                } finally {
                    terminal.close();
                }
            }
        };
    }
}
