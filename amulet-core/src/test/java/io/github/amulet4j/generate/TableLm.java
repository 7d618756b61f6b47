package io.github.amulet4j.generate;

import io.github.amulet4j.backend.CausalLm;
import io.github.amulet4j.backend.DecodingSession;
import io.github.amulet4j.backend.Logits;
import io.github.amulet4j.backend.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic "table" language model for tests: the logits of a stream are a pure function of its
 * whole token history (a seeded random row per history). Rows beyond the tokenizer's vocabulary (the
 * padding) get a huge logit so that a generator that reads them would pick them.
 */
final class TableLm implements CausalLm {

    final int modelVocab;
    final int realVocab;
    final long seed;
    int maxPositions = Integer.MAX_VALUE;
    /** A history (as a list) whose logits get a NaN at token 1 in every stream that reaches it. */
    int[] poisonHistory;

    /** Wall time each prefill and each append take at least (to test timings); 0 by default. */
    long prefillSleepMillis;
    long appendSleepMillis;

    int prefills;
    int appends;
    int absorbs;
    int extensions;
    final List<Integer> appendBatchSizes = new ArrayList<>();
    final List<int[]> selects = new ArrayList<>();
    /** Every stream ever created, with its full history. */
    final List<Stream> allStreams = new ArrayList<>();

    static final class Stream {
        int[] history;

        Stream(int[] history) {
            this.history = history;
        }
    }

    TableLm(int modelVocab, int realVocab, long seed) {
        this.modelVocab = modelVocab;
        this.realVocab = realVocab;
        this.seed = seed;
    }

    /** Replaces the table when set: the logits row of a whole history (prompt and generated tokens). */
    java.util.function.Function<int[], float[]> script;

    /** The logits row of a history (the table). */
    float[] row(int[] history) {
        if (script != null) {
            return script.apply(history);
        }
        long h = seed;
        for (int t : history) {
            h = h * 1_000_003L + t + 1;
        }
        SplittableRandom r = new SplittableRandom(h);
        float[] out = new float[modelVocab];
        for (int v = 0; v < modelVocab; v++) {
            out[v] = v < realVocab ? (float) (2.0 * r.nextGaussian()) : 50f;
        }
        if (poisonHistory != null && Arrays.equals(poisonHistory, history)) {
            out[1] = Float.NaN;
        }
        return out;
    }

    @Override
    public int vocabSize() {
        return modelVocab;
    }

    @Override
    public int maxPositions() {
        return maxPositions;
    }

    @Override
    public DecodingSession prefill(List<int[]> prompts) {
        prefills++;
        sleep(prefillSleepMillis);
        List<Stream> streams = new ArrayList<>();
        for (int[] p : prompts) {
            if (p.length == 0 || p.length > maxPositions) {
                throw new IllegalArgumentException("bad prompt length " + p.length);
            }
            Stream s = new Stream(p.clone());
            allStreams.add(s);
            streams.add(s);
        }
        return new Session(streams);
    }

    @Override
    public void close() {
    }

    private static void sleep(long millis) {
        if (millis > 0) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    final class Session implements DecodingSession {
        private List<Stream> streams;
        private boolean closed;

        Session(List<Stream> streams) {
            this.streams = streams;
        }

        @Override
        public int streams() {
            return streams.size();
        }

        @Override
        public Logits logits() {
            check();
            float[] data = new float[streams.size() * modelVocab];
            for (int i = 0; i < streams.size(); i++) {
                System.arraycopy(row(streams.get(i).history), 0, data, i * modelVocab, modelVocab);
            }
            return new Logits(data, streams.size(), modelVocab);
        }

        @Override
        public void append(int[] tokens) {
            check();
            if (tokens.length != streams.size()) {
                throw new IllegalArgumentException("tokens " + tokens.length + " != streams " + streams.size());
            }
            appends++;
            appendBatchSizes.add(tokens.length);
            sleep(appendSleepMillis);
            for (int i = 0; i < tokens.length; i++) {
                Stream s = streams.get(i);
                if (tokens[i] < 0 || tokens[i] >= modelVocab) {
                    throw new IllegalArgumentException("token " + tokens[i]);
                }
                if (s.history.length + 1 > maxPositions) {
                    throw new IllegalArgumentException("stream " + i + " exceeds max positions");
                }
                int[] h = Arrays.copyOf(s.history, s.history.length + 1);
                h[h.length - 1] = tokens[i];
                s.history = h;
            }
        }

        @Override
        public void select(int[] sources) {
            check();
            selects.add(sources.clone());
            List<Stream> next = new ArrayList<>();
            boolean[] used = new boolean[streams.size()];
            for (int src : sources) {
                Stream old = streams.get(src);
                if (used[src]) {
                    Stream copy = new Stream(old.history.clone());
                    allStreams.add(copy);
                    next.add(copy);
                } else {
                    used[src] = true;
                    next.add(old);
                }
            }
            streams = next;
        }

        @Override
        public void extend(int[][] tokens) {
            check();
            extensions++;
            for (int i = 0; i < tokens.length; i++) {
                Stream s = streams.get(i);
                int[] h = Arrays.copyOf(s.history, s.history.length + tokens[i].length);
                System.arraycopy(tokens[i], 0, h, s.history.length, tokens[i].length);
                s.history = h;
            }
        }

        @Override
        public void absorb(DecodingSession other) {
            check();
            Session o = (Session) other;
            o.check();
            absorbs++;
            List<Stream> next = new ArrayList<>(streams);
            next.addAll(o.streams);
            streams = next;
            o.close();
        }

        @Override
        public int length(int stream) {
            return streams.get(stream).history.length;
        }

        @Override
        public void close() {
            closed = true;
        }

        private void check() {
            if (closed) {
                throw new IllegalStateException("session closed");
            }
        }
    }

    /** Tokenizer: id 0 is EOS (special, decodes to nothing); others decode to fixed short strings. */
    static final class Tokenizer implements TextTokenizer {
        static final String[] PIECES = {"<eos>", "a", "b", "c", "ab", " ", "x", "yz", "q", "r", "s", "t", "u", "v"};
        final int vocab;

        Tokenizer(int vocab) {
            this.vocab = vocab;
        }

        @Override
        public int[] encode(String text) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                if (id != 0) {
                    sb.append(PIECES[id]);
                }
            }
            return sb.toString();
        }

        @Override
        public int vocabularySize() {
            return vocab;
        }
    }
}
