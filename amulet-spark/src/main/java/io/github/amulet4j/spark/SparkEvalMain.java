package io.github.amulet4j.spark;

import org.apache.spark.SparkConf;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code spark-submit} entry point: {@code spark-submit --class io.github.amulet4j.spark.SparkEvalMain
 * amulet-spark-submit.jar [eval options]} runs {@code amulet eval --spark MASTER [eval options]} with the master
 * spark-submit was given. The command line (amulet-examples) parses the options: the spark-submit jar
 * ({@code -Pspark-jar}) holds it, this module does not depend on it.
 */
public final class SparkEvalMain {

    /** The command line's entry point. */
    static final String CLI = "io.github.amulet4j.cli.AmuletCli";

    private SparkEvalMain() {
    }

    public static void main(String[] args) throws Throwable {
        String master = new SparkConf().get("spark.master", "local[*]");
        List<String> full = new ArrayList<>(List.of("eval", "--spark", master));
        full.addAll(List.of(args));
        Method main;
        try {
            main = Class.forName(CLI).getMethod("main", String[].class);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the amulet command line (" + CLI + ") is not on the class path: submit"
                    + " amulet-spark-submit.jar (./mvnw -Pspark-jar -DskipTests -pl amulet-spark -am package)", e);
        }
        try {
            main.invoke(null, (Object) full.toArray(String[]::new));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
