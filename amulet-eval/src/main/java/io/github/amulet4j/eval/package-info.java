/**
 * Eval runs, methods x preferences over question sets: the plan ({@link io.github.amulet4j.eval.EvalPlan}), its rows,
 * the resumable results file and its settings sidecar, and the Spark runner's service interface.
 */
package io.github.amulet4j.eval;
