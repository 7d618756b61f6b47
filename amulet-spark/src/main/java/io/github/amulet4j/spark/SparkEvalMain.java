package io.github.amulet4j.spark;

import io.github.amulet4j.cli.AmuletCli;
import org.apache.spark.SparkConf;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code spark-submit} entry point: {@code spark-submit --class io.github.amulet4j.spark.SparkEvalMain
 * amulet-spark-submit.jar [eval options]} runs {@code amulet eval --spark MASTER [eval options]} with the master
 * spark-submit was given.
 */
public final class SparkEvalMain {

    private SparkEvalMain() {
    }

    public static void main(String[] args) {
        String master = new SparkConf().get("spark.master", "local[*]");
        List<String> full = new ArrayList<>(List.of("eval", "--spark", master));
        full.addAll(List.of(args));
        AmuletCli.main(full.toArray(String[]::new));
    }
}
