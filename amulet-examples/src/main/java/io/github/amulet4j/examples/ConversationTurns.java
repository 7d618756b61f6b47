package io.github.amulet4j.examples;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.PromptStyle;
import io.github.amulet4j.transformer.PromptCache;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measures what the prompt cache buys a conversation: the same multi-turn {@code amulet} conversation (greedy,
 * preference {@code concise}, the whole history resent every turn as a chat client does) on two copies of one model,
 * with the prompt cache and without ({@code promptCacheMib(0)}), turn by turn in the same run (each turn first on
 * one, then on the other). Prints per turn the prompt tokens (both streams), the tokens the cache reused, the time to
 * first token of each and their ratio, checks that both give the same tokens, and at the end one turn with another
 * preference ({@code formal}) over the same history (the base stream reused).
 *
 * <pre>
 * ./amulet random-model --shape qwen2.5-0.5b --out /tmp/qwen
 * java -Xmx8g --add-modules jdk.incubator.vector -cp "amulet-examples/target/amulet-examples.jar:amulet-examples/target/lib/*" \
 *     io.github.amulet4j.examples.ConversationTurns /tmp/qwen 8 230 16 bf16
 * </pre>
 * Arguments: model folder, turns (8), words per user turn (230), tokens per answer (16), weights (auto).
 */
public final class ConversationTurns {

    private static final String[] WORDS = ("the of and to in is that for it as with was on by be this are from at or "
            + "an which have not has but all were when we there can been more if will one would their about what "
            + "light ozone layer sun river mountain energy water climate ocean forest city history science music "
            + "language computer network memory cache model answer question reason simple detail example").split(" ");

    private ConversationTurns() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ConversationTurns MODEL_FOLDER [TURNS] [WORDS_PER_TURN] [ANSWER_TOKENS] [WEIGHTS]");
            System.exit(2);
        }
        Path folder = Path.of(args[0]);
        int turns = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int words = args.length > 2 ? Integer.parseInt(args[2]) : 230;
        int answerTokens = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        RuntimeOptions.Weights weights = RuntimeOptions.Weights.parse(args.length > 4 ? args[4] : "auto");
        GenerationConfig cfg = GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(answerTokens)
                .decoding(DecodingConfig.greedy()).build();
        try (AmuletModel cached = AmuletModel.load(options(folder, weights, RuntimeOptions.DEFAULT_PROMPT_CACHE_MIB));
             AmuletModel plain = AmuletModel.load(options(folder, weights, 0))) {
            SplittableRandom random = new SplittableRandom(7);
            Conversation conversation = Conversation.empty().withSystem("You are a helpful assistant.");
            // one short warm-up request on each model (JIT), outside the conversation
            AmuletRequest warm = AmuletRequest.builder("Hello?").preference("creative").config(cfg).build();
            cached.generate(warm, TokenListener.NONE);
            plain.generate(warm, TokenListener.NONE);
            System.out.println("turn | prompt tokens | reused | prefilled | TTFT cached ms | TTFT uncached ms | "
                    + "uncached/cached | same tokens");
            double firstCached = 0;
            double firstPlain = 0;
            int[] previousAnswer = null;
            int previousBaseLength = 0;
            for (int turn = 1; turn <= turns; turn++) {
                conversation = conversation.plus(ChatMessage.user(text(random, words)));
                AmuletRequest request = AmuletRequest.builder(conversation).preference("concise").config(cfg).build();
                int[] base = cached.prompts().renderBase(conversation, PromptStyle.DEFAULT).tokenIds();
                if (previousAnswer != null) {
                    System.out.println("  " + answerRoundTrip(previousAnswer, base, previousBaseLength));
                }
                PromptCache.Stats before = cached.promptCacheStats().orElseThrow();
                GenerationResult a = cached.generate(request, TokenListener.NONE);
                GenerationResult b = plain.generate(request, TokenListener.NONE);
                PromptCache.Stats after = cached.promptCacheStats().orElseThrow();
                System.out.printf(Locale.ROOT, "  streams hit: %d of %d; base stream %d tokens%n",
                        after.hits() - before.hits(), after.lookups() - before.lookups(), base.length);
                previousAnswer = a.tokenIds();
                previousBaseLength = base.length;
                double ta = a.stats().timeToFirstTokenNanos() / 1e6;
                double tb = b.stats().timeToFirstTokenNanos() / 1e6;
                if (turn == 1) {
                    firstCached = ta;
                    firstPlain = tb;
                }
                System.out.printf(Locale.ROOT, "%d | %d | %d | %d | %.0f | %.0f | %.2f | %s%n", turn,
                        a.stats().promptTokens(), a.stats().promptTokensReused(), a.stats().promptTokensPrefilled(),
                        ta, tb, tb / ta, Arrays.equals(a.tokenIds(), b.tokenIds()));
                if (turn == turns) {
                    System.out.printf(Locale.ROOT, "turn %d / turn 1 TTFT: cached %.2f, uncached %.2f%n", turns,
                            ta / firstCached, tb / firstPlain);
                }
                conversation = conversation.plus(ChatMessage.assistant(b.text()));
            }
            conversation = conversation.plus(ChatMessage.user(text(random, words)));
            AmuletRequest formal = AmuletRequest.builder(conversation).preference("formal").config(cfg).build();
            GenerationResult a = cached.generate(formal, TokenListener.NONE);
            GenerationResult b = plain.generate(formal, TokenListener.NONE);
            System.out.printf(Locale.ROOT, "preference changed to formal: prompt %d, reused %d; TTFT cached %.0f ms, "
                    + "uncached %.0f ms, cached/uncached %.2f, same tokens %s%n", a.stats().promptTokens(),
                    a.stats().promptTokensReused(), a.stats().timeToFirstTokenNanos() / 1e6,
                    b.stats().timeToFirstTokenNanos() / 1e6,
                    (double) a.stats().timeToFirstTokenNanos() / b.stats().timeToFirstTokenNanos(),
                    Arrays.equals(a.tokenIds(), b.tokenIds()));
            System.out.println("prompt cache: " + cached.promptCacheStats().orElseThrow());
        }
    }

    private static ModelOptions options(Path folder, RuntimeOptions.Weights weights, int mib) {
        return ModelOptions.builder().model(folder).runtime(r -> r.weights(weights).promptCacheMib(mib)).build();
    }

    /**
     * Whether the answer of the previous turn comes back as the same token ids in this turn's base prompt (they
     * start where the previous prompt ended, after its generation prompt): the prompt cache holds the generated ids,
     * so only ids that come back unchanged are reused.
     */
    static String answerRoundTrip(int[] answer, int[] prompt, int answerStart) {
        int n = Math.min(answer.length, prompt.length - answerStart);
        int same = 0;
        while (same < n && answer[same] == prompt[answerStart + same]) {
            same++;
        }
        // the rendered answer ends where the template's end-of-turn token follows: count up to the first special id
        return String.format(Locale.ROOT, "previous answer: %d ids generated, the first %d come back unchanged in "
                + "this prompt%s", answer.length, same, same == answer.length ? "" : " (re-tokenized differently "
                + "from id " + same + ")");
    }

    /** A user turn of {@code words} random words from a small English list, ending in a question mark. */
    static String text(SplittableRandom random, int words) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            sb.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
        }
        return sb.append('?').toString();
    }
}
