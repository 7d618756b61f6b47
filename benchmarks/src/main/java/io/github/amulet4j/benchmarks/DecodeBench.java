package io.github.amulet4j.benchmarks;

import io.github.amulet4j.cli.AmuletCli;

/**
 * The end-to-end decoding benchmark of issue 5, runnable from this module:
 * {@code OMP_WAIT_POLICY=PASSIVE java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar io.github.amulet4j.benchmarks.DecodeBench
 * [--shape qwen2.5-0.5b|llama3.2-1b] [--dtype float32|float16] [--json] ...}. It is the same command as
 * {@code ./amulet bench} (same options, same output).
 */
public final class DecodeBench {

    private DecodeBench() {
    }

    public static void main(String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        AmuletCli.main(all);
    }
}
