/**
 * The backend-neutral two-stream generation loop: batched prefill and decoding of the base and
 * preference streams of every request, streaming, stop conditions, and beam search.
 */
package io.github.amulet4j.generate;
