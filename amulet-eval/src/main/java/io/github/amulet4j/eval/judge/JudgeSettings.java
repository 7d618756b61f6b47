package io.github.amulet4j.eval.judge;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The judge settings recorded as the first line of a judgements file: the endpoint, the model, the template's
 * SHA-256, the temperature and {@code max_tokens}. All but the endpoint decide the verdicts, and a run with other
 * values is refused, so that one file never mixes two judges. The endpoint is how the judge was reached (the first
 * run's, for the record): the same model may be served from another address or port on a resume. Concurrency,
 * timeouts and retries change no verdict and are not recorded.
 */
public record JudgeSettings(String judgeUrl, String judgeModel, String templateSha256, double temperature,
                            Integer maxTokens) {

    /** The value of {@code "type"} on the settings line. */
    public static final String TYPE = "judge_settings";

    public JudgeSettings {
        Objects.requireNonNull(judgeUrl, "judgeUrl");
        Objects.requireNonNull(judgeModel, "judgeModel");
        Objects.requireNonNull(templateSha256, "templateSha256");
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("type", TYPE);
        o.addProperty("judge_url", judgeUrl);
        o.addProperty("judge_model", judgeModel);
        o.addProperty("template_sha256", templateSha256);
        o.addProperty("temperature", temperature);
        o.addProperty("max_tokens", maxTokens);
        return o;
    }

    /** @throws IllegalArgumentException naming the field that is missing or of the wrong type */
    public static JudgeSettings fromJson(JsonObject o) {
        try {
            JsonElement max = o.get("max_tokens");
            return new JudgeSettings(o.get("judge_url").getAsString(), o.get("judge_model").getAsString(),
                    o.get("template_sha256").getAsString(), o.get("temperature").getAsDouble(),
                    max == null || max.isJsonNull() ? null : max.getAsInt());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the settings line needs judge_url, judge_model, template_sha256, "
                    + "temperature and max_tokens", e);
        }
    }

    /**
     * The settings that decide verdicts and differ from {@code now}, each as {@code name (file: X, now: Y)}; empty
     * when none (the endpoint is not compared).
     */
    public List<String> differences(JudgeSettings now) {
        List<String> d = new ArrayList<>();
        diff(d, "judge_model (--judge-model)", judgeModel, now.judgeModel);
        diff(d, "template_sha256 (--judge-template)", templateSha256, now.templateSha256);
        diff(d, "temperature", temperature, now.temperature);
        diff(d, "max_tokens (--judge-max-tokens)", maxTokens, now.maxTokens);
        return d;
    }

    private static void diff(List<String> out, String name, Object file, Object now) {
        if (!Objects.equals(file, now)) {
            out.add(name + " (file: " + file + ", now: " + now + ")");
        }
    }
}
