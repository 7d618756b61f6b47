/**
 * The sampler chain that turns a row of adjusted logits into a token: temperature, top-k, top-p, then a
 * greedy or seeded random pick.
 */
package io.github.amulet4j.decode;
