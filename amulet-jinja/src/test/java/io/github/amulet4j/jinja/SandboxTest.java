package io.github.amulet4j.jinja;

import io.github.amulet4j.jinja.JinjaTemplate;
import io.github.amulet4j.jinja.TemplateException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Templates are untrusted code: they must never reach a Java object, class or file. */
class SandboxTest {

    private static final Map<String, Object> CONTEXT = Map.of(
            "messages", List.of(Map.of("role", "user", "content", "hi")), "text", "abc");

    private static String render(String source) {
        return JinjaTemplate.compile(source, "sandbox.jinja").render(CONTEXT);
    }

    /**
     * The template parses (a syntax error would prove nothing about the sandbox); rendering it is then either a
     * render-time error or an empty result, never anything that names a Java class.
     */
    private static void assertBlocked(String source) {
        JinjaTemplate template;
        try {
            template = JinjaTemplate.compile(source, "sandbox.jinja");
        } catch (TemplateException e) {
            throw new AssertionError(source + " does not parse, so it tests nothing: " + e.getMessage(), e);
        }
        try {
            String out = template.render(CONTEXT);
            assertTrue(out.isEmpty() || !out.contains("java") && !out.contains("class"),
                    source + " rendered " + out);
            assertEquals("", out.strip(), source + " rendered " + out);
        } catch (TemplateException expected) {
            assertEquals("sandbox.jinja", expected.sourceName());
        }
    }

    @Test
    void reflectionAttemptsAreBlocked() {
        for (String s : List.of(
                "{{ messages.getClass() }}",
                "{{ messages.getClass }}",
                "{{ messages.getClass().forName('java.lang.Runtime') }}",
                "{{ ''.__class__ }}",
                "{{ ''.__class__.__mro__ }}",
                "{{ ().__class__.__mro__ }}",
                "{{ ().__class__.__bases__[0].__subclasses__() }}",
                "{{ text.getBytes() }}",
                "{{ text.class }}",
                "{{ messages[0].getClass().getName() }}",
                "{{ messages[0]['__class__'] }}",
                "{{ raise_exception.__globals__ }}",
                "{{ namespace.__init__.__globals__ }}",
                "{{ self }}{{ cycler }}{{ joiner }}{{ lipsum }}",
                "{{ range.__self__ }}",
                "{% set x = messages.append(1) %}{{ x }}",
                "{{ messages.pop() }}",
                "{{ messages[0].update({'role': 'x'}) }}{{ messages[0].clear() }}")) {
            assertBlocked(s);
        }
    }

    @Test
    void mutatingMethodsFailLikeTheImmutableSandbox() {
        TemplateException e = assertThrows(TemplateException.class, () -> render("{{ messages.append(1) }}"));
        assertTrue(e.getMessage().contains("unsafe"), e.getMessage());
    }

    @Test
    void contextValuesOfOtherTypesAreRejectedOnEntry() {
        JinjaTemplate t = JinjaTemplate.compile("{{ f }}", "t");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.render(Map.of("f", new File("/etc/passwd"))));
        assertTrue(e.getMessage().contains("f") && e.getMessage().contains("java.io.File"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> t.render(Map.of("f", List.of(Map.of("k", new Object())))));
    }

    @Test
    void contextIsCopiedSoTheCallersDataIsNeverShared() {
        List<Object> list = new ArrayList<>(List.of("a"));
        JinjaTemplate t = JinjaTemplate.compile("{{ items }}", "t");
        assertEquals("['a']", t.render(Map.of("items", list)));
        list.add("b");
        assertEquals("['a', 'b']", t.render(Map.of("items", list)));
    }

    @Test
    void resourceBombsAreStopped() {
        assertThrows(TemplateException.class, () -> render("{% for i in range(10000000) %}{% endfor %}"));
        assertThrows(TemplateException.class, () -> render("{{ 'x' * 1000000000 }}"));
        assertThrows(TemplateException.class, () -> render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
        assertThrows(TemplateException.class, () -> render("{{ 2 ** 100000 }}"));
    }

    @Test
    void numbersConvertOnEntry() {
        JinjaTemplate t = JinjaTemplate.compile("{{ a + b }} {{ c }} {{ d is integer }}", "t");
        assertEquals("3 2.5 True", t.render(Map.of("a", 1, "b", 2L, "c", 2.5f, "d", (short) 3)));
    }
}
