package io.github.amulet4j.djl.hub;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A Hugging Face model repository id with a revision: {@code org/name} or {@code org/name@revision}
 * (a branch, tag or commit hash; {@code main} when absent).
 *
 * @param repo     {@code org/name} (or a legacy single {@code name})
 * @param revision branch, tag or commit
 */
public record HubId(String repo, String revision) {

    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    /** The default revision. */
    public static final String DEFAULT_REVISION = "main";

    public HubId {
        Objects.requireNonNull(repo, "repo");
        Objects.requireNonNull(revision, "revision");
        if (!REPO.matcher(repo).matches() || repo.contains("..") || repo.contains("--")) {
            throw new IllegalArgumentException("not a Hugging Face repository id: '" + repo + "' (expected org/name)");
        }
        if (revision.isEmpty() || revision.contains("..") || revision.startsWith("/")) {
            throw new IllegalArgumentException("invalid revision '" + revision + "' for " + repo);
        }
    }

    /** Parses {@code org/name[@revision]}. @throws IllegalArgumentException naming the text when malformed */
    public static HubId parse(String text) {
        Objects.requireNonNull(text, "text");
        int at = text.indexOf('@');
        return at < 0 ? new HubId(text, DEFAULT_REVISION) : new HubId(text.substring(0, at), text.substring(at + 1));
    }

    /** Whether {@code text} has the form of a Hub id (it may still name a local folder; check that first). */
    public static boolean looksLikeHubId(String text) {
        if (text == null) {
            return false;
        }
        int at = text.indexOf('@');
        String repo = at < 0 ? text : text.substring(0, at);
        return REPO.matcher(repo).matches() && repo.contains("/");
    }

    /** Whether the revision is a full commit hash. */
    public boolean isCommit() {
        return COMMIT.matcher(revision).matches();
    }

    /** The cache folder name, {@code models--org--name}. */
    public String cacheFolderName() {
        return "models--" + repo.replace("/", "--");
    }

    @Override
    public String toString() {
        return repo + "@" + revision;
    }
}
