package io.github.amulet4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link EvalSummary}: a base row copied for another preference is a row, but its generation counts once. */
class EvalSummaryTest {

    private static JsonObject row(String json) {
        return JsonParser.parseString(json).getAsJsonObject();
    }

    @Test
    void copiedBaseRowsCountAsRowsButNotTwiceInTokensAndTime() {
        EvalSummary s = EvalSummary.of(List.of(
                row("{\"method\":\"base\",\"preference\":\"a\",\"new_tokens\":10,\"seconds\":2.0}"),
                row("{\"method\":\"base\",\"preference\":\"b\",\"new_tokens\":10,\"seconds\":0.0,\"copy_of\":\"a\"}"),
                row("{\"method\":\"base\",\"preference\":\"c\",\"new_tokens\":10,\"seconds\":0.0,\"copy_of\":\"a\"}"),
                row("{\"method\":\"amulet\",\"preference\":\"a\",\"new_tokens\":6,\"seconds\":3.0}"),
                row("{\"method\":\"amulet\",\"preference\":\"b\",\"new_tokens\":2,\"seconds\":1.0}")));
        EvalSummary.MethodTotals base = s.methods().get(0);
        assertEquals(3, base.rows());
        assertEquals(1, base.generated());
        assertEquals(10.0, base.meanNewTokens());      // 10 / 1
        assertEquals(5.0, base.tokensPerSecond());      // 10 tokens in 2 s, not 30 in 2 s
        EvalSummary.MethodTotals amulet = s.methods().get(1);
        assertEquals(2, amulet.rows());
        assertEquals(4.0, amulet.meanNewTokens());      // (6 + 2) / 2
        assertEquals(2.0, amulet.tokensPerSecond());    // 8 / 4
    }
}
