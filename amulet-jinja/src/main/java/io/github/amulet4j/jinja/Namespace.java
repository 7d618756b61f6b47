package io.github.amulet4j.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** The value {@code namespace(...)} returns: a mutable bag of attributes that survives loop scopes. */
final class Namespace {

    final Map<String, Object> attributes = new LinkedHashMap<>();
}
