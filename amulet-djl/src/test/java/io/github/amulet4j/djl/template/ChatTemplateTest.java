package io.github.amulet4j.djl.template;

import io.github.amulet4j.jinja.FixtureRenderingTest;

import io.github.amulet4j.jinja.TemplateException;
import io.github.amulet4j.jinja.TemplateLimitException;
import io.github.amulet4j.jinja.TemplateLimits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.amulet4j.prompt.ChatMessage;
import io.github.amulet4j.prompt.SystemRoleRejectedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ChatTemplate} as a {@link io.github.amulet4j.prompt.ChatFormatter}, against the Python-rendered fixtures. */
class ChatTemplateTest {

    private static ChatTemplate template(String style) {
        Path p = FixtureRenderingTest.casesDir().resolve(style + ".jinja");
        return ChatTemplate.builder(FixtureRenderingTest.read(p), p.getFileName().toString())
                .bosToken("<s>").eosToken("</s>").padToken("<pad>").unkToken("<unk>")
                .clock(FixtureRenderingTest.FIXED_CLOCK).build();
    }

    private static List<ChatMessage> messages(Map<String, Object> context) {
        List<ChatMessage> out = new ArrayList<>();
        for (Object o : (List<?>) context.get("messages")) {
            Map<?, ?> m = (Map<?, ?>) o;
            out.add(new ChatMessage((String) m.get("role"), (String) m.get("content")));
        }
        return out;
    }

    @Test
    void rendersLikeApplyChatTemplate() {
        for (String style : List.of("style_chatml", "style_llama3", "style_mistral", "style_zephyr", "style_smollm",
                "style_qwen25")) {
            ChatTemplate t = template(style);
            List<Map<String, Object>> contexts =
                    FixtureRenderingTest.contexts(FixtureRenderingTest.casesDir().resolve(style + ".jinja"));
            // context 0: a single user turn with the generation prompt, all special tokens set
            Map<String, Object> ctx = contexts.get(0);
            String expected = FixtureRenderingTest.read(FixtureRenderingTest.casesDir().resolve(style + ".0.expected"));
            assertEquals(expected, t.render(messages(ctx), true), style);
        }
    }

    @Test
    void systemMessageRejectedByTheTemplateBecomesSystemRoleRejected() {
        ChatTemplate gemma = template("style_gemma");
        SystemRoleRejectedException e = assertThrows(SystemRoleRejectedException.class,
                () -> gemma.render(List.of(ChatMessage.system("s"), ChatMessage.user("u")), true));
        assertTrue(e.getMessage().contains("System role not supported"), e.getMessage());
        assertTrue(e.getMessage().contains("style_gemma.jinja"), e.getMessage());
        // folding the system text into the first user turn is then accepted (expected text from Python's jinja2)
        String folded = gemma.render(List.of(ChatMessage.user("s\n\nu")), true);
        assertEquals("<s>\n    <start_of_turn>user\ns\n\nu<end_of_turn>\n\n    <start_of_turn>model\n\n", folded);
    }

    @Test
    void otherRaisedErrorsStayTemplateExceptions() {
        ChatTemplate mistral = template("style_mistral");
        TemplateException e = assertThrows(TemplateException.class,
                () -> mistral.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), false));
        assertTrue(e.isRaisedByTemplate());
        assertTrue(e.templateMessage().contains("alternate"));
    }

    /** An error that the conversation raises without its system message too is not a system-role rejection. */
    @Test
    void templateErrorWithASystemMessageIsNotTakenForARejection() {
        ChatTemplate mistral = template("style_mistral");
        TemplateException e = assertThrows(TemplateException.class, () -> mistral.render(
                List.of(ChatMessage.system("s"), ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertTrue(e.templateMessage().contains("alternate"), e.getMessage());
        // Gemma's with [system, user, user]: the alternation error, not the system role; with [system, user]: the role
        ChatTemplate gemma = template("style_gemma");
        TemplateException alternation = assertThrows(TemplateException.class, () -> gemma.render(
                List.of(ChatMessage.system("s"), ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertTrue(alternation.templateMessage().contains("System role not supported"), alternation.getMessage());
        assertThrows(SystemRoleRejectedException.class,
                () -> gemma.render(List.of(ChatMessage.system("s"), ChatMessage.user("a")), true));
        // a template that raises on something else while a system message is there
        ChatTemplate picky = ChatTemplate.builder("{% for m in messages %}{% if m.content == 'bad' %}"
                + "{{ raise_exception('bad content') }}{% endif %}{{ m.role }}:{{ m.content }};{% endfor %}", "picky").build();
        TemplateException other = assertThrows(TemplateException.class,
                () -> picky.render(List.of(ChatMessage.system("s"), ChatMessage.user("bad")), true));
        assertTrue(other.templateMessage().contains("bad content"));
        // the fallback fails too: both errors in one message (through PromptTextBuilder)
        ChatTemplate noSystemNoBlankLines = ChatTemplate.builder("{% for m in messages %}"
                + "{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
                + "{% if '\n\n' in m.content and m.content|length > 12 %}{{ raise_exception('message too long: ' + m.content|length|string) }}{% endif %}"
                + "{{ m.role }}:{{ m.content }};{% endfor %}", "strict.jinja").build();
        io.github.amulet4j.prompt.PromptTextBuilder tsp = new io.github.amulet4j.prompt.PromptTextBuilder(noSystemNoBlankLines);
        io.github.amulet4j.prompt.PromptRenderException both = assertThrows(io.github.amulet4j.prompt.PromptRenderException.class,
                () -> tsp.build("You are terse.", "Why is the sky blue?", io.github.amulet4j.prompt.Preference.text("brief")));
        assertTrue(both.getMessage().contains("System role not supported") && both.getMessage().contains("message too long")
                && both.getMessage().contains("strict.jinja"), both.getMessage());
    }

    /** A Qwen2.5-style template's default system message: found from the template, kept in the preference stream. */
    @Test
    void qwenDefaultSystemMessageStaysInThePreferenceStream() {
        ChatTemplate qwen = template("style_qwen25");
        String d = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
        assertEquals(java.util.Optional.of(d), io.github.amulet4j.prompt.DefaultSystemMessage.find(qwen));
        io.github.amulet4j.prompt.PromptTextBuilder.Texts r = new io.github.amulet4j.prompt.PromptTextBuilder(qwen)
                .build(null, "Why?", io.github.amulet4j.prompt.Preference.text("Be brief."));
        assertEquals("<|im_start|>system\n" + d + "<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n",
                r.base());
        assertEquals("<|im_start|>system\n" + d + " Be brief.<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n"
                + "<|im_start|>assistant\n", r.preference());
        assertEquals(java.util.Optional.of("You are a helpful assistant."),
                io.github.amulet4j.prompt.DefaultSystemMessage.find(template("style_smollm")));
        // templates without a default of their own
        for (String style : List.of("style_chatml", "style_llama3", "style_mistral", "style_zephyr",
                "style_gemma", "style_llama2", "style_qwen3")) {
            assertEquals(java.util.Optional.empty(), io.github.amulet4j.prompt.DefaultSystemMessage.find(template(style)), style);
        }
    }

    @Test
    void emitsBosOnlyWhenTheTextStartsWithIt() {
        ChatTemplate llama3 = template("style_llama3");
        String withBos = llama3.render(List.of(ChatMessage.user("x")), true);
        assertTrue(llama3.emitsBos(withBos));
        ChatTemplate chatml = template("style_chatml");
        String noBos = chatml.render(List.of(ChatMessage.user("x")), true);
        assertFalse(chatml.emitsBos(noBos));
        ChatTemplate noToken = ChatTemplate.builder("{{ bos_token }}x", "t").build();
        assertFalse(noToken.emitsBos(noToken.render(List.of(), false)));
    }

    @Test
    void extraVariablesReachTheTemplate() {
        ChatTemplate t = ChatTemplate.builder(
                "{% if enable_thinking is defined and not enable_thinking %}no-think{% endif %}{{ tools|length }}", "t")
                .variable("enable_thinking", false).build();
        assertEquals("no-think1", t.render(List.of(), true, Map.of("tools", List.of(Map.of("name", "f")))));
    }

    @Test
    void hostileTemplatesFailWithTheLimitNamedAndLimitsComeFromTheBuilder() {
        ChatTemplate hostile = ChatTemplate.builder("{{ 'ab' * (2**62 + 10**9) }}", "evil/tokenizer_config.json").build();
        TemplateLimitException e = assertThrows(TemplateLimitException.class,
                () -> hostile.render(List.of(ChatMessage.system("s"), ChatMessage.user("hi")), true));
        assertTrue(e.getMessage().startsWith("evil/tokenizer_config.json:1:") && e.getMessage().contains("maxValueSize"),
                e.getMessage());
        String loop = "{% for m in messages %}{{ m.content }}{% endfor %}";
        List<ChatMessage> chat = List.of(ChatMessage.user("a"), ChatMessage.user("b"), ChatMessage.user("c"));
        assertEquals("abc", ChatTemplate.builder(loop, "t").build().render(chat, false));
        TemplateLimitException steps = assertThrows(TemplateLimitException.class, () -> ChatTemplate.builder(loop, "t")
                .limits(TemplateLimits.builder().maxSteps(4).build()).build().render(chat, false));
        assertEquals("maxSteps", steps.limitName());
    }
}
