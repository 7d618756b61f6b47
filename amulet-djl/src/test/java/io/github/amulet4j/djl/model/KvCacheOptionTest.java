package io.github.amulet4j.djl.model;

import io.github.amulet4j.formats.checkpoint.ModelConfig;
import io.github.amulet4j.formats.checkpoint.ModelShapes;
import io.github.amulet4j.transformer.KvCache;
import io.github.amulet4j.transformer.KvCachePrecision;
import io.github.amulet4j.transformer.weights.Kernels;
import io.github.amulet4j.transformer.weights.NativeKernels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RuntimeOptions#kvCache()}: float32 by default, kept by {@code toBuilder}, part of equality; on a loaded model
 * a float16 cache where the native attention runs (half the bytes of the float32 one), float32 for Gemma 2 (its
 * attention soft-caps).
 */
class KvCacheOptionTest {

    @Test
    void theOptionDefaultsToFloat32AndIsKept() {
        assertEquals(KvCachePrecision.F32, RuntimeOptions.defaults().kvCache());
        RuntimeOptions half = RuntimeOptions.builder().kvCache(KvCachePrecision.F16).build();
        assertEquals(KvCachePrecision.F16, half.toBuilder().build().kvCache());
        assertEquals(half, half.toBuilder().build());
        assertNotEquals(RuntimeOptions.defaults(), half);
        assertTrue(half.toString().contains("kvCache=F16"), half.toString());
        assertThrows(NullPointerException.class, () -> RuntimeOptions.builder().kvCache(null));
        assertEquals(KvCachePrecision.F16, KvCachePrecision.parse(" F16 "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCachePrecision.parse("bf16"));
        assertTrue(e.getMessage().contains("valid: f32, f16"), e.getMessage());
    }

    @Test
    void aLoadedModelHoldsFloat16WhereTheNativeAttentionRunsAndFloat32ForGemma2() {
        Assumptions.assumeTrue(NativeKernels.available(), NativeKernels.unavailableReason());
        ModelConfig qwen = ModelShapes.tinyQwen2();
        RuntimeOptions.Builder b = RuntimeOptions.builder().linearKernel(RuntimeOptions.LinearKernel.JAVA)
                .kernels(Kernels.JAVA);
        long[] bytes = new long[2];
        for (KvCachePrecision p : KvCachePrecision.values()) {
            try (DjlCausalLm lm = DjlCausalLm.load(qwen, TestModels.store(qwen, 5), b.kvCache(p).build());
                 KvCache cache = lm.newCache(2, 64)) {
                assertEquals(p, lm.kvCachePrecision());
                bytes[p.ordinal()] = cache.bytes();
            }
        }
        assertEquals(bytes[0], 2 * bytes[1], "float16: half the bytes");
        ModelConfig gemma2 = ModelShapes.tinyGemma2();
        try (DjlCausalLm lm = DjlCausalLm.load(gemma2, TestModels.store(gemma2, 5),
                b.kvCache(KvCachePrecision.F16).build())) {
            assertEquals(KvCachePrecision.F32, lm.kvCachePrecision(), "Gemma 2's soft-capping: float32 kept");
        }
    }
}
