package io.github.amulet4j.djl;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.github.amulet4j.djl.model.RuntimeOptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ModelOptions holds one RuntimeOptions; each engine option is parsed and validated there only. */
class OptionsTest {

    @Test
    void modelOptionsCarryTheRuntimeOptionsTheyWereGiven() {
        ModelOptions o = ModelOptions.builder().model("org/name")
                .runtime(r -> r.device(Device.gpu(1)).computeType(DataType.FLOAT16).useKvCache(false)
                        .productThreads(3).linearKernel(RuntimeOptions.LinearKernel.ENGINE))
                .build();
        RuntimeOptions r = o.runtime();
        assertEquals(Device.gpu(1), r.device());
        assertEquals(DataType.FLOAT16, r.computeType());
        assertEquals(false, r.useKvCache());
        assertEquals(3, r.productThreads());
        assertEquals(RuntimeOptions.LinearKernel.ENGINE, r.linearKernel());
        // toBuilder keeps every runtime value; equal options are equal and hash alike
        assertEquals(o, o.toBuilder().build());
        assertEquals(o.hashCode(), o.toBuilder().build().hashCode());
        assertNotEquals(o, o.toBuilder().runtime(b -> b.productThreads(4)).build());
        // runtime(RuntimeOptions) replaces the whole set
        assertEquals(RuntimeOptions.defaults(), o.toBuilder().runtime(RuntimeOptions.defaults()).build().runtime());
        assertTrue(o.toString().contains("productThreads=3"), o.toString());
    }

    @Test
    void defaultsAreCpuFloat32WithACache() {
        RuntimeOptions r = ModelOptions.defaults().runtime();
        assertEquals(Device.cpu(), r.device());
        assertEquals(DataType.FLOAT32, r.computeType());
        assertTrue(r.useKvCache());
        assertEquals("Qwen/Qwen2.5-0.5B-Instruct", ModelOptions.defaults().model());
    }

    @Test
    void devicesAndDtypesAreReadFromTheNamesUsersType() {
        assertEquals(Device.cpu(), RuntimeOptions.parseDevice(" CPU "));
        assertEquals(Device.gpu(0), RuntimeOptions.parseDevice("gpu"));
        assertEquals(Device.gpu(2), RuntimeOptions.parseDevice("gpu:2"));
        assertEquals(Device.gpu(3), RuntimeOptions.parseDevice("cuda:3"));
        assertEquals(DataType.FLOAT16, RuntimeOptions.parseComputeType("f16"));
        assertEquals(DataType.FLOAT32, RuntimeOptions.parseComputeType("Float32"));
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.parseDevice("tpu"));
        assertEquals("unknown device 'tpu'; valid: cpu, gpu, gpu:N", d.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.parseDevice("gpu:"));
        assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.parseDevice("gpu:-1"));
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                () -> RuntimeOptions.parseComputeType("bfloat16"));
        assertEquals("unknown dtype 'bfloat16'; valid: float32, float16", t.getMessage());
    }

    @Test
    void invalidRuntimeValuesAreRefusedWhereTheyAreSet() {
        ModelOptions.Builder b = ModelOptions.builder();
        assertThrows(IllegalArgumentException.class, () -> b.runtime(r -> r.productThreads(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.runtime(r -> r.computeType(DataType.BFLOAT16)));
    }
}
