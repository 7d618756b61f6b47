package io.github.amulet4j.decode;

/** Divides the logits by a temperature (> 0); {@code -inf} stays {@code -inf}. */
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
        for (int i = off, end = off + vocab; i < end; i++) {
            logits[i] *= inverse;
        }
    }

    @Override
    public String toString() {
        return "Temperature[" + temperature + "]";
    }
}
