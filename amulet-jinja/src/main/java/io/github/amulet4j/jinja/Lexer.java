package io.github.amulet4j.jinja;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits template source into tokens exactly as Jinja2's lexer does with {@code trim_blocks=True},
 * {@code lstrip_blocks=True} and {@code keep_trailing_newline=False}: whitespace control signs
 * ({@code -} and {@code +}) on tag openers and closers, removal of the first newline after a block or
 * comment tag, and removal of the indentation before a block or comment tag that starts a line.
 */
final class Lexer {

    private static final Pattern FLOAT = Pattern.compile(
            "(?<!\\.)(\\d+_)*\\d+((\\.(\\d+_)*\\d+)?e[+\\-]?(\\d+_)*\\d+|\\.(\\d+_)*\\d+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern INTEGER = Pattern.compile(
            "0b(_?[0-1])+|0o(_?[0-7])+|0x(_?[\\da-f])+|[1-9](_?\\d)*|0(_?0)*", Pattern.CASE_INSENSITIVE);
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern STRING = Pattern.compile(
            "'([^'\\\\]*(?:\\\\.[^'\\\\]*)*)'|\"([^\"\\\\]*(?:\\\\.[^\"\\\\]*)*)\"", Pattern.DOTALL);
    private static final Pattern RAW_BEGIN = Pattern.compile("\\{%([-+]?)\\s*raw\\s*(?:-%}\\s*|%})");
    private static final Pattern RAW_END = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(?:\\+%}|-%}\\s*|%}\\n?)");
    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
        "<", ">", "=", ".", ":", "|", ",", ";"
    };

    private final String source;
    private final String sourceName;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;
    private boolean lineStarting = true;

    private Lexer(String source, String sourceName) {
        this.source = source;
        this.sourceName = sourceName;
    }

    static List<Token> tokenize(String source, String sourceName) {
        Lexer lexer = new Lexer(normalizeNewlines(source), sourceName);
        lexer.run();
        return lexer.tokens;
    }

    /** Jinja2 treats \r\n, \r and \n as line breaks, joins with \n and drops one trailing newline. */
    static String normalizeNewlines(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    static boolean isSpace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == 0x0c
                || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f
                || c == 0x205f || c == 0x3000;
    }

    private TemplateException error(String message, int atLine) {
        return new TemplateException(message, sourceName, atLine, false);
    }

    private void run() {
        int n = source.length();
        while (pos < n) {
            int tag = findTagStart(pos);
            if (tag < 0) {
                emit(Token.Type.DATA, source.substring(pos), line);
                pos = n;
                break;
            }
            String text = source.substring(pos, tag);
            char kind = source.charAt(tag + 1);
            Matcher raw = kind == '%' ? region(RAW_BEGIN, tag) : null;
            boolean isRaw = raw != null && raw.lookingAt();
            char sign = tag + 2 < n ? source.charAt(tag + 2) : 0;
            boolean hasSign = sign == '-' || sign == '+';
            text = applyLeftStrip(text, hasSign ? sign : 0, kind == '{');
            int textLine = line;
            line += countNewlines(source, pos, tag);
            if (!text.isEmpty()) {
                emit(Token.Type.DATA, text, textLine);
            }
            if (isRaw) {
                line += countNewlines(source, tag, raw.end());
                pos = raw.end();
                lexRawBody();
                continue;
            }
            pos = tag + 2 + (hasSign ? 1 : 0);
            lineStarting = false;
            switch (kind) {
                case '#' -> lexComment(tag);
                case '%' -> lexTag(Token.Type.BLOCK_BEGIN, Token.Type.BLOCK_END, "%}", true);
                default -> lexTag(Token.Type.VAR_BEGIN, Token.Type.VAR_END, "}}", false);
            }
        }
        tokens.add(new Token(Token.Type.EOF, "", line));
    }

    private int findTagStart(int from) {
        int n = source.length();
        for (int i = from; i + 1 < n; i++) {
            if (source.charAt(i) == '{') {
                char c = source.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return i;
                }
            }
        }
        return -1;
    }

    private Matcher region(Pattern p, int from) {
        Matcher m = p.matcher(source);
        m.region(from, source.length());
        m.useTransparentBounds(true);
        m.useAnchoringBounds(false);
        return m;
    }

    /** Jinja2's OptionalLStrip: "-" strips all whitespace, lstrip_blocks strips indentation of block tags. */
    private String applyLeftStrip(String text, char sign, boolean variable) {
        if (sign == '-') {
            int end = text.length();
            while (end > 0 && isSpace(text.charAt(end - 1))) {
                end--;
            }
            return text.substring(0, end);
        }
        if (sign != '+' && !variable) {
            int lpos = text.lastIndexOf('\n') + 1;
            if ((lpos > 0 || lineStarting) && lpos < text.length()) {
                for (int i = lpos; i < text.length(); i++) {
                    if (!isSpace(text.charAt(i))) {
                        return text;
                    }
                }
                return text.substring(0, lpos);
            }
        }
        return text;
    }

    private void lexRawBody() {
        Matcher end = region(RAW_END, pos);
        if (!end.find()) {
            throw error("Missing end of raw directive", line);
        }
        String text = source.substring(pos, end.start());
        String sign = end.group(1);
        text = applyLeftStrip(text, sign.isEmpty() ? 0 : sign.charAt(0), false);
        if (!text.isEmpty()) {
            emit(Token.Type.DATA, text, line);
        }
        line += countNewlines(source, pos, end.end());
        pos = end.end();
        lineStarting = source.charAt(pos - 1) == '\n';
    }

    private void lexComment(int tagStart) {
        int n = source.length();
        for (int i = pos; i + 1 < n; i++) {
            char c = source.charAt(i);
            int endPos;
            if ((c == '+' || c == '-') && i + 2 < n && source.charAt(i + 1) == '#' && source.charAt(i + 2) == '}') {
                endPos = i + 3;
                if (c == '-') {
                    while (endPos < n && isSpace(source.charAt(endPos))) {
                        endPos++;
                    }
                }
            } else if (c == '#' && source.charAt(i + 1) == '}') {
                endPos = i + 2;
                if (endPos < n && source.charAt(endPos) == '\n') {
                    endPos++;
                }
            } else {
                continue;
            }
            line += countNewlines(source, pos, endPos);
            pos = endPos;
            lineStarting = source.charAt(pos - 1) == '\n';
            return;
        }
        throw error("Missing end of comment tag", line);
    }

    private void lexTag(Token.Type begin, Token.Type endType, String end, boolean block) {
        int beginLine = line;
        emit(begin, "", line);
        Deque<Character> balance = new ArrayDeque<>();
        int n = source.length();
        while (true) {
            if (pos >= n) {
                throw error("unexpected end of template, the tag opened on line " + beginLine + " is never closed", line);
            }
            if (balance.isEmpty()) {
                int endPos = matchTagEnd(end, block);
                if (endPos >= 0) {
                    emit(endType, "", line);
                    line += countNewlines(source, pos, endPos);
                    pos = endPos;
                    lineStarting = source.charAt(pos - 1) == '\n';
                    return;
                }
            }
            char c = source.charAt(pos);
            if (isSpace(c)) {
                if (c == '\n') {
                    line++;
                }
                pos++;
                continue;
            }
            Matcher m;
            if ((m = region(FLOAT, pos)).lookingAt()) {
                emit(Token.Type.FLOAT, m.group().replace("_", ""), line);
                pos = m.end();
            } else if ((m = region(INTEGER, pos)).lookingAt()) {
                emit(Token.Type.INTEGER, m.group().replace("_", ""), line);
                pos = m.end();
            } else if ((m = region(NAME, pos)).lookingAt()) {
                emit(Token.Type.NAME, m.group(), line);
                pos = m.end();
            } else if ((m = region(STRING, pos)).lookingAt()) {
                String body = m.group(1) != null ? m.group(1) : m.group(2);
                emit(Token.Type.STRING, unescape(body, line), line);
                line += countNewlines(source, pos, m.end());
                pos = m.end();
            } else {
                String op = matchOperator();
                if (op == null) {
                    throw error("unexpected char '" + c + "' at " + pos, line);
                }
                switch (op) {
                    case "{" -> balance.push('}');
                    case "(" -> balance.push(')');
                    case "[" -> balance.push(']');
                    case "}", ")", "]" -> {
                        if (balance.isEmpty()) {
                            throw error("unexpected '" + op + "'", line);
                        }
                        char expected = balance.pop();
                        if (expected != op.charAt(0)) {
                            throw error("unexpected '" + op + "', expected '" + expected + "'", line);
                        }
                    }
                    default -> { }
                }
                emit(Token.Type.OPERATOR, op, line);
                pos += op.length();
            }
        }
    }

    /** The position after the tag closer at {@code pos}, or -1 when there is none. */
    private int matchTagEnd(String end, boolean block) {
        int n = source.length();
        if (block && source.startsWith("+" + end, pos)) {
            return pos + 3;
        }
        if (source.startsWith("-" + end, pos)) {
            int p = pos + 3;
            while (p < n && isSpace(source.charAt(p))) {
                p++;
            }
            return p;
        }
        if (source.startsWith(end, pos)) {
            int p = pos + 2;
            if (block && p < n && source.charAt(p) == '\n') {
                p++;
            }
            return p;
        }
        return -1;
    }

    private String matchOperator() {
        for (String op : OPERATORS) {
            if (source.startsWith(op, pos)) {
                return op;
            }
        }
        return null;
    }

    private void emit(Token.Type type, String value, int atLine) {
        tokens.add(new Token(type, value, atLine));
    }

    private static int countNewlines(String s, int from, int to) {
        int count = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                count++;
            }
        }
        return count;
    }

    /** Python's unicode-escape decoding of a string literal body. */
    private String unescape(String body, int atLine) {
        if (body.indexOf('\\') < 0) {
            return body;
        }
        StringBuilder out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 >= body.length()) {
                out.append(c);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case '\n' -> { }
                case '\\' -> out.append('\\');
                case '\'' -> out.append('\'');
                case '"' -> out.append('"');
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000b');
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + 1 + len > body.length()) {
                        throw error("truncated \\" + e + " escape in string literal", atLine);
                    }
                    String hex = body.substring(i + 1, i + 1 + len);
                    try {
                        out.appendCodePoint(Integer.parseInt(hex, 16));
                    } catch (IllegalArgumentException ex) {
                        throw error("invalid \\" + e + " escape in string literal", atLine);
                    }
                    i += len;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        int k = 1;
                        while (k < 3 && i + 1 < body.length() && body.charAt(i + 1) >= '0' && body.charAt(i + 1) <= '7') {
                            v = v * 8 + body.charAt(++i) - '0';
                            k++;
                        }
                        out.append((char) v);
                    } else {
                        out.append('\\').append(e);
                    }
                }
            }
        }
        return out.toString();
    }
}
