package io.github.amulet4j.decode;

/**
 * Divides the logits by a temperature (> 0); {@code -inf} stays {@code -inf}. When the row's maximum divided
 * by the temperature would leave float's range (a temperature below about 1e-38 times the logits), the row
 * is divided relative to its maximum instead ({@code (x - max) / T}: the same softmax, the maximum becomes 0,
 * the rest at most {@code -inf}), so a tiny temperature gives the argmax and never NaN.
 */
public final class Temperature implements LogitsProcessor {

    private final float inverse;
    private final double temperature;

    public Temperature(double temperature) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number > 0, got " + temperature);
        }
        this.temperature = temperature;
        this.inverse = (float) (1.0 / temperature);
    }

    @Override
    public void process(float[] logits, int off, int vocab) {
        float max = LogitsMath.max(logits, off, vocab);
        if (max == Float.NEGATIVE_INFINITY) {
            return;
        }
        if (Float.isFinite(inverse) && Float.isFinite(max * inverse)) {
            for (int i = off, end = off + vocab; i < end; i++) {
                logits[i] *= inverse;
            }
            return;
        }
        for (int i = off, end = off + vocab; i < end; i++) {
            logits[i] = (float) ((logits[i] - (double) max) / temperature);
        }
    }

    @Override
    public String toString() {
        return "Temperature[" + temperature + "]";
    }
}
