package io.github.amulet4j.eval;

import java.io.PrintWriter;
import java.util.ServiceLoader;

/**
 * Runs an {@link EvalPlan} as an Apache Spark job: the service (a {@link ServiceLoader} provider) that the
 * amulet-spark module declares in {@code META-INF/services/io.github.amulet4j.eval.SparkRunner}, found by
 * {@link EvalPlan#runOnSpark}. This module never loads Spark itself.
 */
public interface SparkRunner {

    /** The exit code of a run that wrote every row (the command line's success code). */
    int OK = 0;
    /** The exit code of a run that failed at run time (the command line's failure code). */
    int FAILURE = 1;

    /**
     * Runs the plan on its {@linkplain EvalPlan#master() master}: progress and messages on {@code err}, the summary
     * table on {@code out}.
     *
     * @return the exit code, {@link #OK} or {@link #FAILURE}
     * @throws EvalUsageException when a setting is bad (the question set, the output, a Spark setting of the plan)
     */
    int run(EvalPlan plan, PrintWriter out, PrintWriter err) throws Exception;
}
