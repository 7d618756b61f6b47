package io.github.amulet4j.eval.judge;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's lines, order, JSON nulls and table, from judgements made by hand. */
class JudgeReportTest {

    static Answer answer(int index, String method, String preference) {
        return new Answer(index, method, preference, "Be " + preference + ".", "Q" + index, method + index, "f");
    }

    static void judged(Map<JudgementKey, Judgement> m, Comparison c, Verdict candidateFirst, Verdict baselineFirst) {
        m.put(c.candidateFirst(), new Judgement(c.candidateFirst(), "s", candidateFirst, "r", null, "m", "t", 1, 0));
        m.put(c.baselineFirst(), new Judgement(c.baselineFirst(), "s", baselineFirst, "r", null, "m", "t", 1, 0));
    }

    @Test
    void linesPerPreferenceAndOverallInFirstSeenOrder() {
        Map<JudgementKey, Judgement> j = new HashMap<>();
        Comparison f1 = new Comparison(answer(1, "amulet", "formal"), answer(1, "base", "formal"));
        Comparison f2 = new Comparison(answer(2, "amulet", "formal"), answer(2, "base", "formal"));
        Comparison c1 = new Comparison(answer(1, "amulet", "concise"), answer(1, "base", "concise"));
        Comparison p1 = new Comparison(answer(1, "pref", "formal"), answer(1, "base", "formal"));
        Comparison p2 = new Comparison(answer(2, "pref", "formal"), answer(2, "base", "formal"));
        judged(j, f1, Verdict.A, Verdict.B);        // win
        judged(j, f2, Verdict.B, Verdict.A);        // loss
        judged(j, c1, null, Verdict.A);             // unparsable
        judged(j, p1, Verdict.TIE, Verdict.TIE);    // tie
        j.put(p2.candidateFirst(), new Judgement(p2.candidateFirst(), "s", Verdict.A, "r", null, "m", "t", 1, 0)); // pending
        JudgeReport r = JudgeReport.of(List.of(f1, f2, c1, p1, p2), j);
        assertEquals(1, r.pending());
        assertEquals(List.of("formal", "concise", "formal"), r.byPreference().stream().map(JudgeReport.Line::preference).toList());
        assertEquals(new Tally(1, 0, 1, 0), r.byPreference().get(0).tally());
        assertEquals(new Tally(0, 0, 0, 1), r.byPreference().get(1).tally());
        assertEquals(new Tally(0, 1, 0, 0), r.byPreference().get(2).tally());
        assertEquals(new Tally(1, 0, 1, 1), r.overall().get(0).tally());
        assertEquals("pref", r.overall().get(1).candidate());

        JsonObject concise = r.json().getAsJsonArray("pairs").get(1).getAsJsonObject();
        assertTrue(concise.get("win_rate").isJsonNull() && concise.get("ci_low").isJsonNull()
                && concise.get("ci_high").isJsonNull(), concise.toString());
        assertEquals(1, concise.get("unparsable").getAsInt());

        List<String> table = r.table().lines().toList();
        assertEquals(6, table.size(), r.table());
        assertTrue(table.get(2).matches("amulet\\s+base\\s+concise\\s+0\\s+0\\s+0\\s+1\\s+-\\s+-"), table.get(2));
        assertTrue(table.get(3).matches("amulet\\s+base\\s+overall\\s+1\\s+0\\s+1\\s+1\\s+50\\.0%\\s+\\[9\\.5, 90\\.5]"),
                table.get(3));
        assertTrue(WinRateChart.svg(r, "judge: m <&>").contains("judge: m &lt;&amp;&gt;"));
        assertTrue(WinRateChart.svg(r, "x").contains("no comparisons (1 unparsable)"));
    }
}
