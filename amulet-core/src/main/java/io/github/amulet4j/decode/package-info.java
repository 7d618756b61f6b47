/**
 * The decoding chain around the per-token step: {@link io.github.amulet4j.decode.HistoryProcessor}s that see
 * the request's tokens (repetition penalty, n-gram bans and the user's, before the step; the user's, then
 * temperature, top-k, top-p and min-p, after it), then a greedy or seeded random pick
 * ({@link io.github.amulet4j.decode.DecodingChain}).
 */
package io.github.amulet4j.decode;
