/**
 * LLM-judge win rates over eval results: prompts, an OpenAI-compatible client, verdicts, the judgements file and the
 * report.
 */
package io.github.amulet4j.eval.judge;
