package io.github.amulet4j.eval.judge;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The judge's prompt: a template with {@code {question}}, {@code {preference}}, {@code {answer_a}} and
 * {@code {answer_b}}, sent as one user message. The default (resource {@code judge-template.txt}) is an
 * MT-Bench-style pairwise prompt ending in the strict verdict format {@code [[A]]}, {@code [[B]]}, {@code [[C]]}.
 *
 * <p>The placeholders are filled in one pass, so an answer that itself contains {@code {answer_b}} stays as
 * written. The template's SHA-256 identifies it in the judgements file.
 */
public final class JudgePrompt {

    /** The placeholders every template must hold. */
    public static final List<String> PLACEHOLDERS = List.of("{question}", "{preference}", "{answer_a}", "{answer_b}");

    /** What the judge is told after a reply without a verdict (the one retry). */
    public static final String REMINDER = "Your reply has no final verdict in the required format. Reply with "
            + "exactly one of [[A]], [[B]] or [[C]].";

    private static final String RESOURCE = "judge-template.txt";

    private final String template;
    private final String sha256;

    private JudgePrompt(String template) {
        this.template = template;
        this.sha256 = sha256(template);
    }

    /** The built-in template. */
    public static JudgePrompt defaultTemplate() {
        try (InputStream in = JudgePrompt.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the jar");
            }
            return of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + RESOURCE, e);
        }
    }

    /**
     * A template from text.
     *
     * @throws IllegalArgumentException naming the placeholders it lacks
     */
    public static JudgePrompt of(String template) {
        Objects.requireNonNull(template, "template");
        List<String> missing = new ArrayList<>();
        for (String p : PLACEHOLDERS) {
            if (!template.contains(p)) {
                missing.add(p);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the judge template lacks " + String.join(", ", missing)
                    + " (it needs all of " + String.join(", ", PLACEHOLDERS) + ")");
        }
        return new JudgePrompt(template);
    }

    /**
     * A template from a UTF-8 file.
     *
     * @throws IllegalArgumentException naming the file when it is missing or lacks a placeholder
     */
    public static JudgePrompt read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + " does not exist or is not a file");
        }
        try {
            return of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The template text. */
    public String template() {
        return template;
    }

    /** SHA-256 of the template's UTF-8 bytes, as 64 hex digits. */
    public String sha256() {
        return sha256;
    }

    /** The prompt for one order of a comparison: {@code a} shown first, {@code b} second. */
    public String render(Answer a, Answer b) {
        return fill(Map.of("{question}", a.question(), "{preference}", a.preferenceText(), "{answer_a}", a.text(),
                "{answer_b}", b.text()));
    }

    /** The template with each placeholder replaced by its value, in one left-to-right pass. */
    String fill(Map<String, String> values) {
        StringBuilder sb = new StringBuilder(template.length() + 256);
        int i = 0;
        outer:
        while (i < template.length()) {
            if (template.charAt(i) == '{') {
                for (String p : PLACEHOLDERS) {
                    if (template.startsWith(p, i)) {
                        sb.append(values.get(p));
                        i += p.length();
                        continue outer;
                    }
                }
            }
            sb.append(template.charAt(i++));
        }
        return sb.toString();
    }

    /** SHA-256 of a string's UTF-8 bytes, as hex. */
    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
