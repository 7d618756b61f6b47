/**
 * Chat templates as core's {@code ChatFormatter}: {@link io.github.amulet4j.djl.template.ChatTemplate} renders a
 * model's Jinja template (amulet-jinja) with the variables Hugging Face passes.
 */
package io.github.amulet4j.djl.template;
