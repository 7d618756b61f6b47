package io.github.amulet4j.spark;

import ai.djl.Device;
import io.github.amulet4j.djl.ModelOptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The GPU a task's model runs on: the one Spark assigned to the task, for GPU runs only. */
class ExecutorModelsTest {

    @Test
    void aGpuRunTakesTheTasksGpuAndACpuRunStaysOnTheCpu() {
        ModelOptions gpu = ModelOptions.builder().model("/m").runtime(r -> r.device(Device.gpu())).build();
        assertEquals(Device.gpu(3), ExecutorModels.onGpu(gpu, new String[] {"3", "5"}).runtime().device());
        assertSame(gpu, ExecutorModels.onGpu(gpu, new String[0]));
        ModelOptions cpu = ModelOptions.builder().model("/m").build();
        assertSame(cpu, ExecutorModels.onGpu(cpu, new String[] {"1"}));
        assertSame(cpu, ExecutorModels.onTaskGpu(cpu, null));
    }
}
