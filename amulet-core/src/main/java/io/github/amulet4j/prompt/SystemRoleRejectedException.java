package io.github.amulet4j.prompt;

/** Thrown by a {@link ChatFormatter} whose template refuses a system message. */
public class SystemRoleRejectedException extends RuntimeException {

    public SystemRoleRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
