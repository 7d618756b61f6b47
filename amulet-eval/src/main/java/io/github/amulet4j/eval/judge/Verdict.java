package io.github.amulet4j.eval.judge;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A judge's verdict on one prompt: answer A is better, answer B is better, or a tie, read from the strict
 * format {@code [[A]]}, {@code [[B]]}, {@code [[C]]} (MT-Bench's pairwise judge; {@code C} is the tie).
 */
public enum Verdict {
    /** The answer shown first is better. */
    A,
    /** The answer shown second is better. */
    B,
    /** Neither is better. */
    TIE;

    private static final Pattern MARKER = Pattern.compile("\\[\\[([ABC])]]");

    /** The verdict letter as written by the judge: {@code A}, {@code B} or {@code C}. */
    public String letter() {
        return this == TIE ? "C" : name();
    }

    /**
     * The verdict of a reply: the last of {@code [[A]]}, {@code [[B]]}, {@code [[C]]} in it (the format asks for
     * the verdict after the explanation, so an explanation that quotes the format does not decide). Exact
     * characters only: {@code [[a]]} or {@code [[ A ]]} are not verdicts.
     *
     * @return empty when the reply holds no verdict (unparsable)
     */
    public static Optional<Verdict> parse(String reply) {
        if (reply == null) {
            return Optional.empty();
        }
        Matcher m = MARKER.matcher(reply);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return Optional.ofNullable(last).map(Verdict::ofLetter);
    }

    /** The verdict of a letter {@code A}, {@code B} or {@code C}. */
    public static Verdict ofLetter(String letter) {
        return switch (letter) {
            case "A" -> A;
            case "B" -> B;
            case "C" -> TIE;
            default -> throw new IllegalArgumentException("verdict letter must be A, B or C, got '" + letter + "'");
        };
    }
}
