package io.github.amulet4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.generate.EarlyStopping;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The decoding chain's and beam search's settings are part of an eval run's settings. */
class EvalSettingsDecodingTest {

    static EvalSettings settings(AlignmentMethod method, GenerationConfig config) {
        return EvalSettings.of("m", "main", "float32", "default", null, Map.of(method, config),
                Map.of("concise", Preference.of("concise")));
    }

    @Test
    void processorAndBeamSettingsAreRecordedAndCompared() {
        GenerationConfig plain = GenerationConfig.builder().build();
        GenerationConfig penalised = plain.toBuilder().decoding(DecodingConfig.builder().repetitionPenalty(1.2)
                .noRepeatNgramSize(3).build()).build();
        assertEquals(List.of("amulet.repetition_penalty: null -> 1.2", "amulet.no_repeat_ngram_size: null -> 3"),
                settings(AlignmentMethod.AMULET, penalised).differencesFrom(settings(AlignmentMethod.AMULET, plain)));
        GenerationConfig minP = plain.toBuilder().decoding(DecodingConfig.builder().doSample(true).minP(0.1).seed(1)
                .build()).build();
        GenerationConfig noMinP = plain.toBuilder().decoding(DecodingConfig.builder().doSample(true).seed(1).build())
                .build();
        assertEquals(List.of("amulet.min_p: null -> 0.1"),
                settings(AlignmentMethod.AMULET, minP).differencesFrom(settings(AlignmentMethod.AMULET, noMinP)));
        GenerationConfig beam = plain.toBuilder().method(AlignmentMethod.BEAM).build();
        assertEquals(List.of("beam.early_stopping: \"false\" -> \"never\""), settings(AlignmentMethod.BEAM,
                beam.toBuilder().earlyStopping(EarlyStopping.NEVER).build()).differencesFrom(settings(AlignmentMethod.BEAM, beam)));
        assertFalse(settings(AlignmentMethod.AMULET, plain).toString().contains("repetition_penalty"),
                "off settings are not written, so older settings files still match");
    }
}
