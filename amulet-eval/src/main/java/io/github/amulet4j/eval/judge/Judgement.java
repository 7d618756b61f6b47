package io.github.amulet4j.eval.judge;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.util.Objects;

/**
 * One answered judge prompt, as one line of the judgements file: which answers were shown in which order, the
 * judge's raw reply and the verdict read from it ({@code null} when unparsable after the one retry).
 *
 * @param key            question, preference and the methods shown as A and B
 * @param answersSha256  SHA-256 of what the judge was shown besides the template (question, preference, both
 *                       answers): a resume from changed answers is refused
 * @param verdict        the verdict, or {@code null} when no reply held one
 * @param reply          the judge's last reply, verbatim
 * @param firstReply     the first reply when it held no verdict and was retried, else {@code null}
 * @param judgeModel     the judge model
 * @param templateSha256 the template's SHA-256
 * @param attempts       HTTP requests it took, retries included
 * @param seconds        wall time
 */
public record Judgement(JudgementKey key, String answersSha256, Verdict verdict, String reply, String firstReply,
                        String judgeModel, String templateSha256, int attempts, double seconds) {

    /** The value of {@code "type"} on a judgement line. */
    public static final String TYPE = "judgement";

    public Judgement {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(answersSha256, "answersSha256");
        Objects.requireNonNull(reply, "reply");
        Objects.requireNonNull(judgeModel, "judgeModel");
        Objects.requireNonNull(templateSha256, "templateSha256");
    }

    /** Whether no verdict could be read. */
    public boolean unparsable() {
        return verdict == null;
    }

    /** The method whose answer the verdict prefers, {@code "tie"}, or {@code null} when unparsable. */
    public String winner() {
        if (verdict == null) {
            return null;
        }
        return switch (verdict) {
            case A -> key.methodA();
            case B -> key.methodB();
            case TIE -> "tie";
        };
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("type", TYPE);
        o.addProperty("index", key.index());
        o.addProperty("preference", key.preference());
        o.addProperty("answer_a", key.methodA());
        o.addProperty("answer_b", key.methodB());
        o.addProperty("verdict", verdict == null ? null : verdict.letter());
        o.addProperty("winner", winner());
        o.addProperty("unparsable", unparsable());
        o.addProperty("reply", reply);
        if (firstReply != null) {
            o.addProperty("first_reply", firstReply);
        }
        o.addProperty("judge_model", judgeModel);
        o.addProperty("template_sha256", templateSha256);
        o.addProperty("answers_sha256", answersSha256);
        o.addProperty("attempts", attempts);
        o.addProperty("seconds", seconds);
        return o;
    }

    /** @throws IllegalArgumentException naming a field that is missing or of the wrong type */
    public static Judgement fromJson(JsonObject o) {
        try {
            JudgementKey key = new JudgementKey(o.get("index").getAsInt(), o.get("preference").getAsString(),
                    o.get("answer_a").getAsString(), o.get("answer_b").getAsString());
            JsonElement v = o.get("verdict");
            JsonElement first = o.get("first_reply");
            return new Judgement(key, o.get("answers_sha256").getAsString(),
                    v == null || v.isJsonNull() ? null : Verdict.ofLetter(v.getAsString()), o.get("reply").getAsString(),
                    first == null || first.isJsonNull() ? null : first.getAsString(), o.get("judge_model").getAsString(),
                    o.get("template_sha256").getAsString(), o.has("attempts") ? o.get("attempts").getAsInt() : 0,
                    o.has("seconds") ? o.get("seconds").getAsDouble() : 0);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("a judgement line needs index, preference, answer_a, answer_b, verdict "
                    + "(A, B, C or null), reply, judge_model, template_sha256 and answers_sha256", e);
        }
    }
}
