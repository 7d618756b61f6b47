package io.github.amulet4j.benchmarks;

import io.github.amulet4j.align.AlignmentStep;
import io.github.amulet4j.align.AmuletCoefficients;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.ClosedFormAmulet;
import io.github.amulet4j.align.IterativeAmulet;
import io.github.amulet4j.align.Nd4jAlignment;
import io.github.amulet4j.align.PassThrough;
import io.github.amulet4j.decode.GreedyPicker;
import io.github.amulet4j.decode.RandomPicker;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Per-token cost of the alignment step over a batch of {@code batch} requests (two logit rows each, as
 * the backend returns them: {@code [2 * batch, vocab]}, preference rows first, then base rows), at the
 * vocabulary sizes of Llama 2 (32000), Llama 3 (128256) and Qwen2 (151936). One operation = one
 * decoding step for the whole batch.
 *
 * <ul>
 *   <li>{@code closedForm}: the default step, one fused pass (no exp);</li>
 *   <li>{@code closedFormGreedy}: the step plus argmax (what greedy decoding costs per token);</li>
 *   <li>{@code closedFormSample}: the step plus a softmax draw (what sampling costs);</li>
 *   <li>{@code iterative}: the paper's T=60 iterations;</li>
 *   <li>{@code pref}: no adjustment (copy and check one row);</li>
 *   <li>{@code twoSoftmax}: baseline, log_softmax of both rows (max, exp-sum, write);</li>
 *   <li>{@code nd4j*}: the same with ND4J ops on {@code INDArray}s, and the ND4J adapter of the library.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class StepBenchmark {

    @Param({"32000", "128256", "151936"})
    public int vocab;

    @Param({"1", "8"})
    public int batch;

    private float[] logits;   // [2 * batch, vocab]
    private float[] out;      // [batch, vocab]
    private float[] scratch;  // [vocab]
    private final AlignmentStep closed = new ClosedFormAmulet();
    private final AlignmentStep iterative = new IterativeAmulet();
    private final float gamma = (float) AmuletCoefficients.of(AmuletParameters.PAPER_DEFAULTS).gamma();
    private SplittableRandom rng;
    private INDArray ndPref;
    private INDArray ndBase;
    private Nd4jAlignment nd4jAdapter;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(42);
        logits = new float[2 * batch * vocab];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (3 * r.nextGaussian());
        }
        out = new float[batch * vocab];
        scratch = new float[vocab];
        rng = new SplittableRandom(7);
        float[] p = new float[batch * vocab];
        float[] b = new float[batch * vocab];
        System.arraycopy(logits, 0, p, 0, p.length);
        System.arraycopy(logits, p.length, b, 0, b.length);
        ndPref = Nd4j.create(p, new long[] {batch, vocab}, DataType.FLOAT);
        ndBase = Nd4j.create(b, new long[] {batch, vocab}, DataType.FLOAT);
        nd4jAdapter = new Nd4jAlignment(closed);
    }

    private int prefOff(int row) {
        return row * vocab;
    }

    private int baseOff(int row) {
        return (batch + row) * vocab;
    }

    @Benchmark
    public float[] closedForm() {
        for (int r = 0; r < batch; r++) {
            closed.apply(logits, prefOff(r), logits, baseOff(r), out, r * vocab, vocab);
        }
        return out;
    }

    @Benchmark
    public void closedFormGreedy(Blackhole bh) {
        for (int r = 0; r < batch; r++) {
            closed.apply(logits, prefOff(r), logits, baseOff(r), scratch, 0, vocab);
            bh.consume(GreedyPicker.INSTANCE.pick(scratch, 0, vocab, null));
        }
    }

    @Benchmark
    public void closedFormSample(Blackhole bh) {
        for (int r = 0; r < batch; r++) {
            closed.apply(logits, prefOff(r), logits, baseOff(r), scratch, 0, vocab);
            bh.consume(RandomPicker.INSTANCE.pick(scratch, 0, vocab, rng));
        }
    }

    @Benchmark
    public float[] iterative() {
        for (int r = 0; r < batch; r++) {
            iterative.apply(logits, prefOff(r), logits, baseOff(r), out, r * vocab, vocab);
        }
        return out;
    }

    @Benchmark
    public float[] pref() {
        for (int r = 0; r < batch; r++) {
            PassThrough.PREFERENCE.apply(logits, prefOff(r), null, 0, out, r * vocab, vocab);
        }
        return out;
    }

    /** Baseline: a numerically safe log_softmax of each of the two rows (3 passes each). */
    @Benchmark
    public float[] twoSoftmax() {
        for (int r = 0; r < batch; r++) {
            logSoftmax(logits, prefOff(r), out, r * vocab, vocab);
            logSoftmax(logits, baseOff(r), scratch, 0, vocab);
        }
        return out;
    }

    private static void logSoftmax(float[] in, int off, float[] dst, int dstOff, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, in[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(in[off + i] - max);
        }
        float lse = (float) (max + Math.log(sum));
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = in[off + i] - lse;
        }
    }

    /** ND4J ops: pref + gamma * (pref - base) on [batch, vocab] (masks not handled: the cheapest ND4J form). */
    @Benchmark
    public INDArray nd4jClosedForm() {
        return ndPref.sub(ndBase).muli(gamma).addi(ndPref);
    }

    @Benchmark
    public INDArray nd4jClosedFormGreedy() {
        return ndPref.sub(ndBase).muli(gamma).addi(ndPref).argMax(1);
    }

    /** ND4J baseline: log_softmax of both [batch, vocab] blocks (subtract max, exp, sum, log). */
    @Benchmark
    public void nd4jTwoSoftmax(Blackhole bh) {
        bh.consume(nd4jLogSoftmax(ndPref));
        bh.consume(nd4jLogSoftmax(ndBase));
    }

    private static INDArray nd4jLogSoftmax(INDArray x) {
        INDArray shifted = x.subColumnVector(x.max(true, 1));
        INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        return shifted.subiColumnVector(lse);
    }

    /** The library's ND4J adapter: INDArray in and out, the Java closed form inside. */
    @Benchmark
    public INDArray nd4jAdapter() {
        return nd4jAdapter.apply(ndPref, ndBase);
    }
}
