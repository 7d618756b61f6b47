package io.github.amulet4j.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hostile chat templates (issue 25): each fails fast with a {@link TemplateLimitException} that names the template,
 * the line and the limit, and no {@link Error} escapes. The expressions are the issue's own.
 */
class TemplateLimitsTest {

    private static final String NAME = "hostile/tokenizer_config.json";

    private static TemplateLimitException renderFails(String source, String limit) {
        return renderFails(JinjaTemplate.compile(source, NAME), limit);
    }

    private static TemplateLimitException renderFails(JinjaTemplate template, String limit) {
        TemplateLimitException e = assertThrows(TemplateLimitException.class, () -> template.render(Map.of()));
        assertNamesLimit(e, limit);
        return e;
    }

    private static void assertNamesLimit(TemplateLimitException e, String limit) {
        assertEquals(limit, e.limitName(), e.getMessage());
        assertTrue(e.getMessage().startsWith(NAME + ":"), e.getMessage());
        assertTrue(e.getMessage().contains(limit), e.getMessage());
        assertEquals(NAME, e.sourceName());
    }

    @Test
    void stringRepetitionCannotPassTheSizeCheckByOverflow() {
        // 'ab' * (2**62 + 10**9): 2 * n overflows a long to a small positive number
        TemplateLimitException e = renderFails("\n{{ 'ab' * (2**62 + 10**9) }}", "maxValueSize");
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("string repetition"), e.getMessage());
        renderFails("{{ [1, 2] * (2**62 + 10**9) }}", "maxListSize");
        renderFails("{{ 'ab' * 9223372036854775807 }}", "maxValueSize");
    }

    @Test
    void joinOfARepeatedHugeStringFailsBeforeAllocating() {
        renderFails("{{ (['x' * 60000000] * 1000) | join }}", "maxValueSize");
        // each part within the value size, the joined text far over it: refused by the join itself
        TemplateLimitException e = renderFails("{{ (['x' * 1000000] * 1000) | join }}", "maxValueSize");
        assertTrue(e.getMessage().contains("join"), e.getMessage());
        e = renderFails("{{ ''.join(['x' * 1000000] * 1000) }}", "maxValueSize");
        assertTrue(e.getMessage().contains("join"), e.getMessage());
    }

    @Test
    void printingAHugeListIsRefusedWhileItsTextIsBuilt() {
        renderFails("{{ ['x' * 20000000] * 100 }}", "maxValueSize");
        renderFails("{{ (['x' * 20000000] * 100) | tojson }}", "maxValueSize");
    }

    @Test
    void twentyThousandNestedParenthesesFailAtCompileTime() {
        String source = "{{ " + "(".repeat(20_000) + "1" + ")".repeat(20_000) + " }}";
        TemplateLimitException e = assertThrows(TemplateLimitException.class, () -> JinjaTemplate.compile(source, NAME));
        assertNamesLimit(e, "maxNestingDepth");
        assertEquals(TemplateLimits.DEFAULT_MAX_NESTING_DEPTH, e.limitValue());
        assertEquals(1, e.line());
    }

    @Test
    void otherDeepSourcesFailAtCompileTime() {
        for (String source : List.of(
                "{{ " + "[".repeat(20_000) + "]".repeat(20_000) + " }}",
                "{{ " + "-".repeat(20_000) + "1 }}",
                "{{ " + "not ".repeat(20_000) + "x }}",
                "{{ 1" + " + 1".repeat(100_000) + " }}",
                "{{ x" + " | trim".repeat(100_000) + " }}",
                "{{ x" + ".a".repeat(100_000) + " }}",
                "{{ 1" + " if x else 1".repeat(20_000) + " }}",
                "{% if x %}".repeat(5_000) + "{% endif %}".repeat(5_000))) {
            TemplateLimitException e = assertThrows(TemplateLimitException.class, () -> JinjaTemplate.compile(source, NAME),
                    source.substring(0, 40));
            assertNamesLimit(e, "maxNestingDepth");
        }
    }

    @Test
    void loopsThatPrintNothingHaveAStepBudget() {
        TemplateLimitException e = renderFails("{% for i in range(100000) %}{% for j in range(100000) %}"
                + "{% for k in range(100000) %}{% endfor %}{% endfor %}{% endfor %}", "maxSteps");
        assertEquals(TemplateLimits.DEFAULT_MAX_STEPS, e.limitValue());
    }

    @Test
    void macroRecursionIsBoundedByTheCallDepth() {
        renderFails("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "maxCallDepth");
        renderFails("{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}",
                "maxCallDepth");
    }

    @Test
    void repeatedLargeAllocationsRunOutOfWork() {
        renderFails("{% for i in range(100000) %}{% set x = 'a' * 30000000 %}{% endfor %}", "maxWork");
        renderFails("{% set s = 'a' * 30000000 %}{% for i in range(100000) %}{% if 'b' in s %}{% endif %}{% endfor %}",
                "maxWork");
        // a search through a long list in a loop: each search counts its elements
        renderFails("{% set big = (range(100000) | list) * 10 %}{% for i in range(100000) %}{% if -1 in big %}"
                + "{% endif %}{% endfor %}", "maxWork");
        renderFails("{{ ((range(100000) | list) * 10) | unique | list | length }}", "maxWork");
    }

    @Test
    void expandingStringMethodsAndFiltersAreChecked() {
        renderFails("{{ ('a' * 1000000).replace('a', 'a' * 1000) }}", "maxValueSize");
        renderFails("{{ ('a' * 1000000) | replace('a', 'a' * 1000) }}", "maxValueSize");
        renderFails("{{ ('a,' * 2000000).split(',') | length }}", "maxListSize");
        renderFails("{{ ('a\\n' * 1000000) | indent(1000) }}", "maxValueSize");
        renderFails("{{ 'a' | center(9223372036854775807) }}", "maxValueSize");
        renderFails("{{ ('\\x00' * 20000000) | tojson }}", "maxValueSize");
        renderFails("{{ ['\\x00' * 20000000] }}", "maxValueSize");
        renderFails("{{ ('<' * 20000000) | escape }}", "maxValueSize");
        renderFails("{{ range(10**18) | length }}", "maxRange");
    }

    @Test
    void valuesNestedBeyondTheJavaStackFailWithoutAnError() {
        // a list nested 100,000 deep: its repr recurses past any stack; the error is a TemplateLimitException
        renderFails("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}"
                + "{{ ns.x }}", "javaStack");
    }

    @Test
    void limitsAreConfigurable() {
        String loop = "{% for i in range(100) %}{{ i }}{% endfor %}";
        JinjaTemplate strict = JinjaTemplate.compile(loop, NAME, TemplateLimits.builder().maxSteps(50).build());
        TemplateLimitException e = renderFails(strict, "maxSteps");
        assertEquals(50, e.limitValue());
        assertEquals(strict.withLimits(TemplateLimits.defaults()).render(Map.of()).length(), 190);

        TemplateLimits small = TemplateLimits.builder().maxValueSize(10).build();
        assertEquals("aaaaaaaaaa", JinjaTemplate.compile("{{ 'a' * 10 }}", NAME, small).render(Map.of()));
        renderFails(JinjaTemplate.compile("{{ 'a' * 11 }}", NAME, small), "maxValueSize");

        String nested = "{{ " + "(".repeat(30) + "1" + ")".repeat(30) + " }}";
        assertEquals("1", JinjaTemplate.compile(nested, NAME).render(Map.of()));
        TemplateLimitException deep = assertThrows(TemplateLimitException.class,
                () -> JinjaTemplate.compile(nested, NAME, TemplateLimits.builder().maxNestingDepth(20).build()));
        assertNamesLimit(deep, "maxNestingDepth");

        String recursion = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}x{% endmacro %}{{ f(5) }}";
        assertEquals("xxxxxx", JinjaTemplate.compile(recursion, NAME).render(Map.of()));
        renderFails(JinjaTemplate.compile(recursion, NAME, TemplateLimits.builder().maxCallDepth(3).build()),
                "maxCallDepth");

        assertEquals(small, small.toBuilder().build());
        assertThrows(IllegalArgumentException.class, () -> TemplateLimits.builder().maxSteps(0));
        assertThrows(IllegalArgumentException.class, () -> TemplateLimits.builder().maxValueSize(1L << 40));
    }

    @Test
    void theBudgetIsPerRender() {
        JinjaTemplate t = JinjaTemplate.compile("{% for i in range(40) %}{{ i }}{% endfor %}", NAME,
                TemplateLimits.builder().maxSteps(100).build());
        for (int i = 0; i < 5; i++) {
            assertEquals(70, t.render(Map.of()).length());
        }
    }
}
