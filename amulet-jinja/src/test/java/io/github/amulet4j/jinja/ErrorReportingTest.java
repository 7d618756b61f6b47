package io.github.amulet4j.jinja;

import io.github.amulet4j.jinja.JinjaTemplate;
import io.github.amulet4j.jinja.TemplateException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad templates give an error that names the source and the line. */
class ErrorReportingTest {

    private static final String SOURCE = "models/x/tokenizer_config.json";

    private static TemplateException compileError(String source) {
        return assertThrows(TemplateException.class, () -> JinjaTemplate.compile(source, SOURCE));
    }

    private static void assertLocated(TemplateException e, int line, String fragment) {
        assertEquals(SOURCE, e.sourceName());
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith(SOURCE + ":" + line + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertFalse(e.isRaisedByTemplate());
    }

    @Test
    void unclosedBlockNamesTheMissingEndTag() {
        assertLocated(compileError("a\n{% for m in messages %}\n{{ m }}\n"), 3, "'endfor'");
        assertLocated(compileError("{% if x %}\nyes\n{% else %}\nno"), 4, "'endif'");
    }

    @Test
    void syntaxErrorsNameTheLine() {
        assertLocated(compileError("line1\nline2 {{ 1 + }}\n"), 2, "unexpected end of print statement");
        assertLocated(compileError("\n\n{% endif %}"), 3, "unexpected 'endif'");
        assertLocated(compileError("{{ x\n\n"), 2, "line 1 is never closed");
        assertLocated(compileError("ok\n{% frobnicate %}"), 2, "unknown tag 'frobnicate'");
        assertLocated(compileError("\n{{ x|nosuchfilter }}"), 2, "no filter named 'nosuchfilter'");
        assertLocated(compileError("\n\n{{ x is nosuchtest }}"), 3, "no test named 'nosuchtest'");
        assertLocated(compileError("{# comment never closed"), 1, "Missing end of comment tag");
        assertLocated(compileError("{% break %}"), 1, "outside of a for loop");
        assertLocated(compileError("{{ (1, 2]] }}"), 1, "unexpected ']'");
        assertLocated(compileError("{% for x in %}{% endfor %}"), 1, "expected an expression");
    }

    @Test
    void runtimeErrorsNameTheLine() {
        JinjaTemplate t = JinjaTemplate.compile("a\nb\n{{ missing.attr }}", SOURCE);
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(Map.of()));
        assertLocated(e, 3, "'missing' is undefined");
        JinjaTemplate t2 = JinjaTemplate.compile("\n{% set x = 'a' + 1 %}", SOURCE);
        assertLocated(assertThrows(TemplateException.class, () -> t2.render(Map.of())), 2, "can only concatenate str");
    }

    @Test
    void raisedErrorsCarryTheTemplatesMessage() {
        JinjaTemplate t = JinjaTemplate.compile("x\n{{ raise_exception('Roles must alternate') }}", SOURCE);
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(Map.of("messages", List.of())));
        assertTrue(e.isRaisedByTemplate());
        assertEquals("Roles must alternate", e.templateMessage());
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains(SOURCE), e.getMessage());
    }
}
