package io.github.amulet4j.djl.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;

import java.util.Objects;

/**
 * How a {@link DjlCausalLm} runs: device, compute dtype, KV cache on or off, the name used in error
 * messages, and the initial cache capacity. Immutable; build with {@link #builder()}.
 *
 * <p>Only {@link DataType#FLOAT32} (default) and {@link DataType#FLOAT16} are accepted as compute
 * types. {@link DataType#BFLOAT16} is rejected on purpose: DJL 0.36's PyTorch JNI aborts the JVM when
 * a BFLOAT16 array is created or converted, so no code path may hand it to the engine.
 */
public final class RuntimeOptions {

    private final Device device;
    private final DataType computeType;
    private final boolean useKvCache;
    private final String checkpointName;
    private final int initialCacheCapacity;

    private RuntimeOptions(Builder b) {
        this.device = b.device;
        this.computeType = b.computeType;
        this.useKvCache = b.useKvCache;
        this.checkpointName = b.checkpointName;
        this.initialCacheCapacity = b.initialCacheCapacity;
    }

    /** Float32 on the CPU with a KV cache. */
    public static RuntimeOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with this object's values. */
    public Builder toBuilder() {
        return new Builder().device(device).computeType(computeType).useKvCache(useKvCache)
                .checkpointName(checkpointName).initialCacheCapacity(initialCacheCapacity);
    }

    /** Device the weights and caches live on ({@link Device#cpu()} by default). */
    public Device device() {
        return device;
    }

    /** Dtype of weights and activations: FLOAT32 (default) or FLOAT16. */
    public DataType computeType() {
        return computeType;
    }

    /** Whether sessions keep a KV cache (default) or recompute the whole prefix at every step. */
    public boolean useKvCache() {
        return useKvCache;
    }

    /** Name of the checkpoint used in error messages (a folder, a Hub id, "random"). */
    public String checkpointName() {
        return checkpointName;
    }

    /** Positions preallocated per cache before it first grows (it doubles as needed). */
    public int initialCacheCapacity() {
        return initialCacheCapacity;
    }

    /**
     * Rejects every compute dtype except FLOAT32 and FLOAT16.
     *
     * @throws IllegalArgumentException for BFLOAT16 (which would abort the JVM inside DJL's JNI) and any other type
     */
    public static DataType requireSupportedComputeType(DataType type) {
        Objects.requireNonNull(type, "computeType");
        if (type == DataType.BFLOAT16) {
            throw new IllegalArgumentException("computeType BFLOAT16 is not supported: DJL 0.36's PyTorch JNI aborts "
                    + "the JVM on BFLOAT16 arrays; use FLOAT32 or FLOAT16 (BF16 checkpoints are widened on load)");
        }
        if (type != DataType.FLOAT32 && type != DataType.FLOAT16) {
            throw new IllegalArgumentException("computeType must be FLOAT32 or FLOAT16, got " + type);
        }
        return type;
    }

    @Override
    public String toString() {
        return "RuntimeOptions[device=" + device + ", computeType=" + computeType + ", useKvCache=" + useKvCache
                + ", checkpointName=" + checkpointName + ", initialCacheCapacity=" + initialCacheCapacity + "]";
    }

    /** Builder for {@link RuntimeOptions}; every setter validates its argument. */
    public static final class Builder {
        private Device device = Device.cpu();
        private DataType computeType = DataType.FLOAT32;
        private boolean useKvCache = true;
        private String checkpointName = "checkpoint";
        private int initialCacheCapacity = 64;

        private Builder() {
        }

        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /** @throws IllegalArgumentException for anything but FLOAT32 / FLOAT16 (BFLOAT16 in particular) */
        public Builder computeType(DataType computeType) {
            this.computeType = requireSupportedComputeType(computeType);
            return this;
        }

        public Builder useKvCache(boolean useKvCache) {
            this.useKvCache = useKvCache;
            return this;
        }

        public Builder checkpointName(String checkpointName) {
            this.checkpointName = Objects.requireNonNull(checkpointName, "checkpointName");
            return this;
        }

        public Builder initialCacheCapacity(int initialCacheCapacity) {
            if (initialCacheCapacity < 1) {
                throw new IllegalArgumentException("initialCacheCapacity must be >= 1, got " + initialCacheCapacity);
            }
            this.initialCacheCapacity = initialCacheCapacity;
            return this;
        }

        public RuntimeOptions build() {
            return new RuntimeOptions(this);
        }
    }
}
