/**
 * Prompt text of the two streams: the conversation (base stream) and the same conversation with the
 * user's preference in the system message (preference stream), rendered with the model's chat template
 * or a plain fallback; the paper's preference presets.
 */
package io.github.amulet4j.prompt;
