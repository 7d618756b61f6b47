package io.github.amulet4j.jinja;

import io.github.amulet4j.jinja.JinjaTemplate;
import io.github.amulet4j.jinja.TemplateException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Renders every fixture template ({@code templates/cases/*.jinja}) with each of its contexts and compares
 * the result byte for byte with what Python's jinja2 produced ({@code regenerate_expected.py}).
 */
public class FixtureRenderingTest {

    /** The local time regenerate_expected.py gives strftime_now. */
    public static final Clock FIXED_CLOCK = Clock.fixed(
            LocalDateTime.of(2024, 7, 26, 9, 5, 7).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);

    /** The cases folder, read in place or (from this module's test jar, for amulet-djl's tests) through a zip file system. */
    public static Path casesDir() {
        try {
            java.net.URI uri = FixtureRenderingTest.class.getResource("/templates/cases").toURI();
            if ("jar".equals(uri.getScheme())) {
                try {
                    java.nio.file.FileSystems.getFileSystem(uri);
                } catch (java.nio.file.FileSystemNotFoundException e) {
                    java.nio.file.FileSystems.newFileSystem(uri, Map.of());
                }
            }
            return Paths.get(uri);
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** JSON into the plain Java values a caller would pass (integers as Long, other numbers as Double). */
    public static Object toJava(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        } else if (e.isJsonArray()) {
            List<Object> out = new ArrayList<>();
            e.getAsJsonArray().forEach(x -> out.add(toJava(x)));
            return out;
        } else if (e.isJsonObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            e.getAsJsonObject().entrySet().forEach(x -> out.put(x.getKey(), toJava(x.getValue())));
            return out;
        }
        var p = e.getAsJsonPrimitive();
        if (p.isBoolean()) {
            return p.getAsBoolean();
        } else if (p.isString()) {
            return p.getAsString();
        }
        String num = p.getAsString();
        return num.matches("-?\\d+") ? (Object) Long.parseLong(num) : (Object) Double.parseDouble(num);
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> contexts(Path template) {
        String base = template.getFileName().toString().replace(".jinja", "");
        Path own = template.resolveSibling(base + ".json");
        Path ctx = Files.exists(own) ? own : template.resolveSibling("chat_contexts.json");
        return (List<Map<String, Object>>) toJava(JsonParser.parseString(read(ctx)));
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureRendersAsPythonJinja2() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> templates;
        try (Stream<Path> files = Files.list(casesDir())) {
            templates = files.filter(p -> p.toString().endsWith(".jinja")).sorted().toList();
        }
        assertTrue(templates.size() >= 15, "fixture templates found: " + templates.size());
        for (Path template : templates) {
            String base = template.getFileName().toString().replace(".jinja", "");
            List<Map<String, Object>> contexts = contexts(template);
            for (int i = 0; i < contexts.size(); i++) {
                Map<String, Object> context = contexts.get(i);
                Path expected = template.resolveSibling(base + "." + i + ".expected");
                Path error = template.resolveSibling(base + "." + i + ".error");
                tests.add(DynamicTest.dynamicTest(base + "#" + i, () -> {
                    JinjaTemplate t = JinjaTemplate.compile(read(template), base + ".jinja");
                    if (Files.exists(expected)) {
                        assertEquals(read(expected), t.render(context, FIXED_CLOCK));
                    } else {
                        assertTrue(Files.exists(error), "no .expected or .error for " + error);
                        TemplateException ex = assertThrows(TemplateException.class, () -> t.render(context, FIXED_CLOCK));
                        assertEquals(read(error), ex.templateMessage());
                    }
                }));
            }
        }
        return tests.stream();
    }

    @Test
    void everyFixtureHasExpectedOutputs() throws IOException {
        try (Stream<Path> files = Files.list(casesDir())) {
            List<Path> templates = files.filter(p -> p.toString().endsWith(".jinja")).toList();
            for (Path t : templates) {
                String base = t.getFileName().toString().replace(".jinja", "");
                assertFalse(contexts(t).isEmpty(), base);
                assertTrue(Files.exists(t.resolveSibling(base + ".0.expected"))
                        || Files.exists(t.resolveSibling(base + ".0.error")), base);
            }
        }
    }
}
