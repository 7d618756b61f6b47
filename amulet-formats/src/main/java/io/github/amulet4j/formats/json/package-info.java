/**
 * The project's one JSON helper over Gson ({@link io.github.amulet4j.formats.json.Json}): reading objects from files
 * with errors that name the file and field, and writing compact JSON.
 */
package io.github.amulet4j.formats.json;
