/**
 * A sandboxed interpreter of the Jinja subset that Hugging Face chat templates use ({@link
 * io.github.amulet4j.jinja.JinjaTemplate}): lexer, parser, Python-like values, filters and tests, with Python's
 * rendering rules (including {@code tojson}); no dependencies.
 */
package io.github.amulet4j.jinja;
