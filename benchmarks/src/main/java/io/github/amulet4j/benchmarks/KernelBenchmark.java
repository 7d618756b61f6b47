package io.github.amulet4j.benchmarks;

import io.github.amulet4j.transformer.weights.NativeKernels;
import io.github.amulet4j.transformer.weights.QuantizedInput;
import io.github.amulet4j.transformer.weights.WeightFormat;
import io.github.amulet4j.transformer.weights.WeightMatrix;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One thread's {@link WeightMatrix#multiply} over a whole Qwen2.5-0.5B-sized matrix ({@code rows x in}: 4864 x 896,
 * the MLP's up/gate projections, and 896 x 4864, its down projection), per format and column count. One operation
 * = one product; GFLOP/s = {@code 2 * rows * in * n / time}, G weights/s = {@code rows * in / time}.
 *
 * <p>{@code kernel}: {@code current} is {@link WeightMatrix#multiply}; {@code baseline} the kernels before the
 * blocked many-column kernel and the 8-bit activation products ({@link WeightMatrix#multiplyBaseline}), measured in
 * the same run; {@code native} the C kernels of issue 26 ({@link WeightMatrix#quantize} of the activations to 8 bits
 * per block for Q8_0/Q4_0, of 256 with 16-quant sums for the K-quants, a copy (rounded to bfloat16 where BF16 uses
 * {@code vdpbf16ps}) for F16/BF16, then {@link WeightMatrix#multiply(QuantizedInput, float[], int, int)}, Q4_0
 * interleaved by eight rows first ({@link WeightMatrix#interleaveForNativeKernels}, as a model loads it); Q8_0, Q4_0,
 * F16, BF16, Q4_K, Q5_K and Q6_K, as many columns as {@link WeightMatrix#nativeProduct} takes:
 * {@code -p kernel=native -p format=Q8_0,Q4_0,F16,BF16 -p n=1,2}; other combinations fail in setup). The K-quants
 * ({@code -p format=Q4_K,Q5_K,Q6_K -p shape=896x4864}) are random blocks, as GGUF files hold them. With one or two
 * columns the product reads its weights from memory: copies of the matrix (together
 * over 128 MB, beyond the L3 cache) are used in turn.
 *
 * <p>The machine is shared, so besides JMH's wall-clock time per product every product's thread CPU time is
 * summed ({@link CpuTime}): {@code cpuNanos / products} is the time of a product on a core of its own (other jobs'
 * time slices do not count; their use of the shared caches still does).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class KernelBenchmark {

    @Param({"F32", "BF16", "F16", "Q8_0", "Q4_0"})
    public String format;

    @Param({"1", "2", "64", "256"})
    public int n;

    @Param({"4864x896", "896x4864"})
    public String shape;

    @Param({"current", "baseline", "native"})
    public String kernel;

    private WeightMatrix[] copies;
    private int next;
    private float[] x;
    private float[] y;
    private boolean baseline;
    private QuantizedInput quantized;

    @Setup(Level.Trial)
    public void setup() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]);
        int in = Integer.parseInt(rc[1]);
        SplittableRandom random = new SplittableRandom(11);
        float[] w = new float[rows * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (0.05 * random.nextGaussian());
        }
        WeightFormat f = WeightFormat.valueOf(format);
        WeightMatrix first = matrix(f, w, rows, in, random);
        int count = n <= 2 ? (int) Math.max(1, (128L << 20) / first.byteSize() + 1) : 1;
        copies = new WeightMatrix[count];
        copies[0] = first;
        for (int c = 1; c < count; c++) {
            copies[c] = matrix(f, w, rows, in, random);
        }
        x = new float[n * in];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        y = new float[n * rows];
        baseline = kernel.equals("baseline");
        if (kernel.equals("native")) {
            if (!first.nativeProduct(n)) {
                throw new IllegalStateException("kernel native multiplies Q8_0, Q4_0, F16, BF16 and the K-quants where "
                        + "the library loaded (" + (NativeKernels.available() ? "variant " + NativeKernels.variantName()
                        : NativeKernels.unavailableReason()) + "), not " + format + " with " + n);
            }
            quantized = new QuantizedInput();
            for (WeightMatrix m : copies) {
                // Q4_0 in the native kernels' layout, as a model loaded with native kernels holds it
                m.interleaveForNativeKernels();
            }
        }
    }

    /**
     * {@code w} in {@code f}; a K-quant or Q5_0 (held only as a GGUF file stores it) as random blocks of that shape:
     * random quants and sub-block scales under block scales near 0.01 (rows of whole 256-weight blocks: the
     * {@code 896x4864} shape).
     */
    private static WeightMatrix matrix(WeightFormat f, float[] w, int rows, int in, SplittableRandom random) {
        if (!f.storedOnly()) {
            return WeightMatrix.of(f, w, rows, in);
        }
        int rowBytes = (int) f.rowBytes(in);
        byte[] raw = new byte[rows * rowBytes];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) random.nextInt(256);
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        short scale = io.github.amulet4j.formats.checkpoint.SafetensorsDtype.floatToHalf(0.01f);
        for (int at = 0; at < raw.length; at += f.blockBytes()) {
            if (f == WeightFormat.Q6_K) {
                b.putShort(at + 208, scale);
            } else {
                b.putShort(at, scale);
                b.putShort(at + 2, scale);
            }
        }
        return WeightMatrix.fromStoredBytes(f, rows, in, (firstRow, count, dst) -> dst.put(raw, firstRow * rowBytes,
                count * rowBytes));
    }

    /** Thread CPU time of the products of one iteration, and their number (secondary results). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        public long cpuNanos;
        public long products;

        @Setup(Level.Iteration)
        public void clear() {
            cpuNanos = 0;
            products = 0;
        }
    }

    @Benchmark
    public float multiply(CpuTime cpu) {
        long start = CpuTime.THREADS.getCurrentThreadCpuTime();
        float out = product();
        cpu.cpuNanos += CpuTime.THREADS.getCurrentThreadCpuTime() - start;
        cpu.products++;
        return out;
    }

    private float product() {
        WeightMatrix m = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        if (quantized != null) {
            m.quantize(x, n, quantized);
            m.multiply(quantized, y, 0, m.rows());
        } else if (baseline) {
            m.multiplyBaseline(x, n, y, 0, m.rows());
        } else {
            m.multiply(x, n, y, 0, m.rows());
        }
        return y[0];
    }
}
