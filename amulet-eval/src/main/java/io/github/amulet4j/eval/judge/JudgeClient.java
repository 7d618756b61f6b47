package io.github.amulet4j.eval.judge;

import io.github.amulet4j.prompt.ChatMessage;

import java.util.List;

/** Asks a judge model one chat-completions request and returns its reply text. Implementations are thread-safe. */
public interface JudgeClient {

    /**
     * The judge's reply to a conversation.
     *
     * @throws JudgeException       when no reply came (after the client's retries)
     * @throws InterruptedException when the run is being stopped
     */
    Reply complete(List<ChatMessage> messages) throws JudgeException, InterruptedException;

    /**
     * A reply.
     *
     * @param text     the reply's text ({@code ""} when the judge sent no content)
     * @param attempts HTTP requests it took (1 without retries)
     */
    record Reply(String text, int attempts) {
    }
}
