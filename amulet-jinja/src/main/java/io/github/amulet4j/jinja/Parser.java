package io.github.amulet4j.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/** Builds the statement tree from tokens, following the grammar and operator precedence of Jinja2's parser. */
final class Parser {

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private final List<Token> tokens;
    private final String sourceName;
    private int pos;
    private int loopDepth;
    private final List<String> openBlocks = new ArrayList<>();
    private final int maxDepth;
    private int depth;

    private Parser(List<Token> tokens, String sourceName, int maxDepth) {
        this.tokens = tokens;
        this.sourceName = sourceName;
        this.maxDepth = maxDepth;
    }

    static List<Stmt> parse(List<Token> tokens, String sourceName) {
        return parse(tokens, sourceName, TemplateLimits.DEFAULT_MAX_NESTING_DEPTH);
    }

    /**
     * Parses {@code tokens}, refusing a source whose expressions and blocks nest deeper than {@code maxDepth}
     * (parentheses, brackets, unary operators, chained operators, filters, attributes, blocks): the tree is
     * walked recursively when it renders, so its depth is bounded here, before any Java stack runs out.
     */
    static List<Stmt> parse(List<Token> tokens, String sourceName, int maxDepth) {
        Parser p = new Parser(tokens, sourceName, maxDepth);
        return p.subparse(Set.of());
    }

    /** One level deeper; pair with {@link #leave}. */
    private void enter(int line) {
        if (++depth > maxDepth) {
            throw new TemplateLimitException("nesting limit: expressions and blocks nest more than maxNestingDepth = "
                    + maxDepth + " levels deep (parentheses, brackets, operators, filters or blocks; TemplateLimits)",
                    sourceName, line, "maxNestingDepth", maxDepth);
        }
    }

    private void leave(int levels) {
        depth -= levels;
    }

    // ---------------------------------------------------------------- token stream

    private Token current() {
        return tokens.get(pos);
    }

    private Token look() {
        return tokens.get(Math.min(pos + 1, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (pos < tokens.size() - 1) {
            pos++;
        }
        return t;
    }

    private TemplateException fail(String message, int line) {
        return new TemplateException(message, sourceName, line, false);
    }

    private Token expect(Token.Type type, String what) {
        Token t = current();
        if (t.type() != type) {
            throw fail("expected " + what + ", got " + t.describe(), t.line());
        }
        return next();
    }

    private void expectOp(String op) {
        Token t = current();
        if (!t.isOp(op)) {
            throw fail("expected token '" + op + "', got " + t.describe(), t.line());
        }
        next();
    }

    private boolean skipOp(String op) {
        if (current().isOp(op)) {
            next();
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (current().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    private void expectBlockEnd() {
        Token t = current();
        if (t.type() != Token.Type.BLOCK_END) {
            throw fail("expected end of statement block, got " + t.describe(), t.line());
        }
        next();
    }

    // ---------------------------------------------------------------- statements

    /** Parses until one of {@code endTokens} opens a block tag; leaves the stream on that tag's name. */
    private List<Stmt> subparse(Set<String> endTokens) {
        enter(current().line());
        try {
            return subparseBody(endTokens);
        } finally {
            leave(1);
        }
    }

    private List<Stmt> subparseBody(Set<String> endTokens) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = current();
            switch (t.type()) {
                case DATA -> {
                    next();
                    body.add(new Stmt.Text(t.line(), t.value()));
                }
                case VAR_BEGIN -> {
                    next();
                    Expr e = parseTuple(false, true, Set.of(), false);
                    body.add(new Stmt.Print(t.line(), e));
                    expect(Token.Type.VAR_END, "end of print statement");
                }
                case BLOCK_BEGIN -> {
                    next();
                    Token name = current();
                    if (name.type() == Token.Type.NAME && endTokens.contains(name.value())) {
                        return body;
                    }
                    body.add(parseStatement());
                }
                case EOF -> {
                    if (!endTokens.isEmpty()) {
                        throw fail("unexpected end of template, expected "
                                + String.join(" or ", endTokens.stream().sorted().map(s -> "'" + s + "'").toList())
                                + "; the innermost block that needs to be closed is '"
                                + openBlocks.get(openBlocks.size() - 1) + "'", t.line());
                    }
                    return body;
                }
                default -> throw fail("unexpected " + t.describe(), t.line());
            }
        }
    }

    private Stmt parseStatement() {
        Token t = current();
        if (t.type() != Token.Type.NAME) {
            throw fail("tag name expected, got " + t.describe(), t.line());
        }
        openBlocks.add(t.value());
        try {
            return switch (t.value()) {
                case "if" -> parseIf();
                case "for" -> parseFor();
                case "set" -> parseSet();
                case "macro" -> parseMacro();
                case "filter" -> parseFilterBlock();
                case "with" -> parseWith();
                case "generation" -> parseGeneration();
                case "break", "continue" -> parseLoopControl();
                default -> {
                    if (t.value().startsWith("end") || t.value().equals("else") || t.value().equals("elif")) {
                        throw fail("unexpected '" + t.value() + "'"
                                + (openBlocks.size() > 1 ? ", the innermost block that needs to be closed is '"
                                        + openBlocks.get(openBlocks.size() - 2) + "'" : ""), t.line());
                    }
                    throw fail("encountered unknown tag '" + t.value() + "' (this sandbox supports if, for, set, "
                            + "macro, filter, with, generation, break, continue and raw)", t.line());
                }
            };
        } finally {
            openBlocks.remove(openBlocks.size() - 1);
        }
    }

    private Stmt parseIf() {
        int line = next().line();
        List<Expr> tests = new ArrayList<>();
        List<List<Stmt>> bodies = new ArrayList<>();
        List<Stmt> otherwise = List.of();
        tests.add(parseTuple(false, false, Set.of(), false));
        expectBlockEnd();
        while (true) {
            bodies.add(subparse(Set.of("elif", "else", "endif")));
            String tag = next().value();
            if (tag.equals("elif")) {
                tests.add(parseTuple(false, false, Set.of(), false));
                expectBlockEnd();
                continue;
            }
            if (tag.equals("else")) {
                expectBlockEnd();
                otherwise = subparse(Set.of("endif"));
                next();
            }
            expectBlockEnd();
            return new Stmt.If(line, tests, bodies, otherwise);
        }
    }

    private Stmt parseFor() {
        int line = next().line();
        Stmt.Target target = parseAssignTarget(Set.of("in"), false);
        if (!skipName("in")) {
            throw fail("expected 'in', got " + current().describe(), current().line());
        }
        Expr iterable = parseTuple(false, false, Set.of("recursive"), false);
        Expr filter = null;
        if (skipName("if")) {
            filter = parseExpression(true);
        }
        if (current().isName("recursive")) {
            throw fail("recursive for loops are not supported by this sandbox", current().line());
        }
        expectBlockEnd();
        loopDepth++;
        List<Stmt> body = subparse(Set.of("endfor", "else"));
        loopDepth--;
        List<Stmt> otherwise = List.of();
        if (next().value().equals("else")) {
            expectBlockEnd();
            otherwise = subparse(Set.of("endfor"));
            next();
        }
        expectBlockEnd();
        return new Stmt.For(line, target, iterable, filter, body, otherwise);
    }

    private Stmt parseSet() {
        int line = next().line();
        Stmt.Target target = parseAssignTarget(Set.of(), true);
        if (skipOp("=")) {
            Expr value = parseTuple(false, true, Set.of(), false);
            expectBlockEnd();
            return new Stmt.Set(line, target, value);
        }
        List<Expr.Filter> filters = new ArrayList<>();
        while (skipOp("|")) {
            filters.add(parseFilter(null));
        }
        expectBlockEnd();
        List<Stmt> body = subparse(Set.of("endset"));
        next();
        expectBlockEnd();
        return new Stmt.SetBlock(line, target, filters, body);
    }

    private Stmt parseMacro() {
        int line = next().line();
        String name = expect(Token.Type.NAME, "macro name").value();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        expectOp("(");
        while (!current().isOp(")")) {
            if (!params.isEmpty()) {
                expectOp(",");
                if (current().isOp(")")) {
                    break;
                }
            }
            Token p = expect(Token.Type.NAME, "parameter name");
            params.add(p.value());
            if (skipOp("=")) {
                defaults.add(parseExpression(true));
            } else if (!defaults.isEmpty()) {
                throw fail("non-default argument follows default argument", p.line());
            }
        }
        next();
        expectBlockEnd();
        int savedLoops = loopDepth;
        loopDepth = 0;
        List<Stmt> body = subparse(Set.of("endmacro"));
        loopDepth = savedLoops;
        next();
        expectBlockEnd();
        return new Stmt.Macro(line, name, params, defaults, body);
    }

    private Stmt parseFilterBlock() {
        int line = next().line();
        List<Expr.Filter> filters = new ArrayList<>();
        filters.add(parseFilter(null));
        while (skipOp("|")) {
            filters.add(parseFilter(null));
        }
        expectBlockEnd();
        List<Stmt> body = subparse(Set.of("endfilter"));
        next();
        expectBlockEnd();
        return new Stmt.FilterBlock(line, filters, body);
    }

    private Stmt parseWith() {
        int line = next().line();
        List<Stmt.Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (current().type() != Token.Type.BLOCK_END) {
            if (!targets.isEmpty()) {
                expectOp(",");
            }
            targets.add(parseAssignTarget(Set.of(), false));
            expectOp("=");
            values.add(parseExpression(true));
        }
        expectBlockEnd();
        List<Stmt> body = subparse(Set.of("endwith"));
        next();
        expectBlockEnd();
        return new Stmt.Scope(line, targets, values, body);
    }

    private Stmt parseGeneration() {
        int line = next().line();
        expectBlockEnd();
        List<Stmt> body = subparse(Set.of("endgeneration"));
        next();
        expectBlockEnd();
        return new Stmt.Scope(line, List.of(), List.of(), body);
    }

    private Stmt parseLoopControl() {
        Token t = next();
        if (loopDepth == 0) {
            throw fail("'" + t.value() + "' outside of a for loop", t.line());
        }
        expectBlockEnd();
        return new Stmt.LoopControl(t.line(), t.value().equals("break") ? Stmt.BREAK : Stmt.CONTINUE);
    }

    private Stmt.Target parseAssignTarget(Set<String> extraEnd, boolean withNamespace) {
        Token t = current();
        if (withNamespace && t.type() == Token.Type.NAME && look().isOp(".")) {
            next();
            next();
            String attr = expect(Token.Type.NAME, "attribute name").value();
            return new Stmt.NamespaceTarget(t.value(), attr);
        }
        List<Stmt.Target> items = new ArrayList<>();
        boolean tuple = false;
        boolean parens = skipOp("(");
        while (true) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            Token c = current();
            if (c.type() == Token.Type.NAME && extraEnd.contains(c.value()) || c.isOp(")") || c.isOp("=")
                    || c.type() == Token.Type.BLOCK_END) {
                break;
            }
            Token name = expect(Token.Type.NAME, "name to assign to");
            if (Set.of("true", "false", "none", "True", "False", "None").contains(name.value())) {
                throw fail("can't assign to constant '" + name.value() + "'", name.line());
            }
            items.add(new Stmt.NameTarget(name.value()));
            if (current().isOp(",")) {
                tuple = true;
            } else {
                break;
            }
        }
        if (parens) {
            expectOp(")");
            tuple = true;
        }
        if (items.isEmpty()) {
            throw fail("expected a name to assign to, got " + current().describe(), current().line());
        }
        return tuple ? new Stmt.TupleTarget(items) : items.get(0);
    }

    // ---------------------------------------------------------------- expressions

    private Expr parseTuple(boolean simplified, boolean withCondexpr, Set<String> extraEnd, boolean explicitParens) {
        int line = current().line();
        List<Expr> args = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!args.isEmpty()) {
                expectOp(",");
            }
            Token c = current();
            if (c.type() == Token.Type.VAR_END || c.type() == Token.Type.BLOCK_END || c.isOp(")")
                    || c.type() == Token.Type.NAME && extraEnd.contains(c.value())) {
                break;
            }
            args.add(simplified ? parsePrimary() : parseExpression(withCondexpr));
            if (current().isOp(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!args.isEmpty()) {
                return args.get(0);
            }
            if (!explicitParens) {
                throw fail("expected an expression, got " + current().describe(), current().line());
            }
        }
        return new Expr.ListLit(line, args, true);
    }

    private Expr parseExpression(boolean withCondexpr) {
        return withCondexpr ? parseCondexpr() : parseOr();
    }

    private Expr parseCondexpr() {
        Expr expr1 = parseOr();
        int levels = 0;
        try {
            while (current().isName("if")) {
                int line = next().line();
                enter(line);
                levels++;
                Expr test = parseOr();
                Expr otherwise = skipName("else") ? parseCondexpr() : null;
                expr1 = new Expr.CondExpr(line, test, expr1, otherwise);
            }
            return expr1;
        } finally {
            leave(levels);
        }
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        int levels = 0;
        try {
            while (current().isName("or")) {
                int line = next().line();
                enter(line);
                levels++;
                left = new Expr.Or(line, left, parseAnd());
            }
            return left;
        } finally {
            leave(levels);
        }
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        int levels = 0;
        try {
            while (current().isName("and")) {
                int line = next().line();
                enter(line);
                levels++;
                left = new Expr.And(line, left, parseNot());
            }
            return left;
        } finally {
            leave(levels);
        }
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            int line = next().line();
            enter(line);
            try {
                return new Expr.Not(line, parseNot());
            } finally {
                leave(1);
            }
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        int line = current().line();
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.type() == Token.Type.OPERATOR && COMPARE_OPS.contains(t.value())) {
                next();
                ops.add(t.value());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && look().isName("in")) {
                next();
                next();
                ops.add("notin");
            } else {
                break;
            }
            operands.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(line, first, ops, operands);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        int levels = 0;
        try {
            while (current().isOp("+") || current().isOp("-")) {
                Token op = next();
                enter(op.line());
                levels++;
                left = new Expr.Binary(op.line(), op.value(), left, parseConcat());
            }
            return left;
        } finally {
            leave(levels);
        }
    }

    private Expr parseConcat() {
        int line = current().line();
        List<Expr> parts = new ArrayList<>();
        parts.add(parseMath2());
        while (skipOp("~")) {
            parts.add(parseMath2());
        }
        return parts.size() == 1 ? parts.get(0) : new Expr.Concat(line, parts);
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        int levels = 0;
        try {
            while (current().isOp("*") || current().isOp("/") || current().isOp("//") || current().isOp("%")) {
                Token op = next();
                enter(op.line());
                levels++;
                left = new Expr.Binary(op.line(), op.value(), left, parsePow());
            }
            return left;
        } finally {
            leave(levels);
        }
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        int levels = 0;
        try {
            while (current().isOp("**")) {
                Token op = next();
                enter(op.line());
                levels++;
                left = new Expr.Binary(op.line(), "**", left, parseUnary(true));
            }
            return left;
        } finally {
            leave(levels);
        }
    }

    private Expr parseUnary(boolean withFilter) {
        Token t = current();
        enter(t.line());
        try {
            Expr node;
            if (t.isOp("-") || t.isOp("+")) {
                next();
                node = new Expr.Unary(t.line(), t.value(), parseUnary(false));
            } else {
                node = parsePrimary();
            }
            node = parsePostfix(node);
            if (withFilter) {
                node = parseFilterExpr(node);
            }
            return node;
        } finally {
            leave(1);
        }
    }

    private Expr parsePrimary() {
        Token t = current();
        switch (t.type()) {
            case NAME -> {
                next();
                return switch (t.value()) {
                    case "true", "True" -> new Expr.Const(t.line(), Boolean.TRUE);
                    case "false", "False" -> new Expr.Const(t.line(), Boolean.FALSE);
                    case "none", "None" -> new Expr.Const(t.line(), null);
                    default -> new Expr.Name(t.line(), t.value());
                };
            }
            case STRING -> {
                next();
                StringBuilder sb = new StringBuilder(t.value());
                while (current().type() == Token.Type.STRING) {
                    sb.append(next().value());
                }
                return new Expr.Const(t.line(), sb.toString());
            }
            case INTEGER -> {
                next();
                return new Expr.Const(t.line(), parseInteger(t));
            }
            case FLOAT -> {
                next();
                return new Expr.Const(t.line(), Double.parseDouble(t.value()));
            }
            case OPERATOR -> {
                if (t.isOp("(")) {
                    next();
                    Expr e = parseTuple(false, true, Set.of(), true);
                    expectOp(")");
                    return e;
                } else if (t.isOp("[")) {
                    return parseList();
                } else if (t.isOp("{")) {
                    return parseDict();
                }
                throw fail("unexpected " + t.describe(), t.line());
            }
            default -> throw fail("unexpected " + t.describe(), t.line());
        }
    }

    private Long parseInteger(Token t) {
        String v = t.value().toLowerCase();
        try {
            if (v.startsWith("0b")) {
                return Long.parseLong(v.substring(2), 2);
            } else if (v.startsWith("0o")) {
                return Long.parseLong(v.substring(2), 8);
            } else if (v.startsWith("0x")) {
                return Long.parseLong(v.substring(2), 16);
            }
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw fail("integer literal out of the supported 64-bit range: " + t.value(), t.line());
        }
    }

    private Expr parseList() {
        int line = next().line();
        List<Expr> items = new ArrayList<>();
        while (!current().isOp("]")) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (current().isOp("]")) {
                break;
            }
            items.add(parseExpression(true));
        }
        expectOp("]");
        return new Expr.ListLit(line, items, false);
    }

    private Expr parseDict() {
        int line = next().line();
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOp("}")) {
            if (!keys.isEmpty()) {
                expectOp(",");
            }
            if (current().isOp("}")) {
                break;
            }
            keys.add(parseExpression(true));
            expectOp(":");
            values.add(parseExpression(true));
        }
        expectOp("}");
        return new Expr.DictLit(line, keys, values);
    }

    private Expr parsePostfix(Expr node) {
        int levels = 0;
        try {
            while (true) {
                Token t = current();
                if (t.isOp(".") || t.isOp("[") || t.isOp("(")) {
                    enter(t.line());
                    levels++;
                }
                if (t.isOp(".") || t.isOp("[")) {
                    node = parseSubscript(node);
                } else if (t.isOp("(")) {
                    node = new Expr.Call(t.line(), node, parseCallArgs());
                } else {
                    return node;
                }
            }
        } finally {
            leave(levels);
        }
    }

    private Expr parseFilterExpr(Expr node) {
        int levels = 0;
        try {
            while (true) {
                Token t = current();
                if (t.isOp("|") || t.isName("is") || t.isOp("(")) {
                    enter(t.line());
                    levels++;
                }
                if (t.isOp("|")) {
                    next();
                    node = parseFilter(node);
                } else if (t.isName("is")) {
                    node = parseTest(node);
                } else if (t.isOp("(")) {
                    node = new Expr.Call(t.line(), node, parseCallArgs());
                } else {
                    return node;
                }
            }
        } finally {
            leave(levels);
        }
    }

    private Expr parseSubscript(Expr node) {
        Token t = next();
        if (t.isOp(".")) {
            Token attr = next();
            if (attr.type() == Token.Type.NAME) {
                return new Expr.GetAttr(attr.line(), node, attr.value());
            } else if (attr.type() == Token.Type.INTEGER) {
                return new Expr.GetItem(attr.line(), node, new Expr.Const(attr.line(), parseInteger(attr)));
            }
            throw fail("expected name or number after '.', got " + attr.describe(), attr.line());
        }
        List<Expr> keys = new ArrayList<>();
        Expr slice = null;
        while (!current().isOp("]")) {
            if (!keys.isEmpty() || slice != null) {
                expectOp(",");
            }
            Expr[] parts = parseSubscribed();
            if (parts.length == 1) {
                keys.add(parts[0]);
            } else if (keys.isEmpty() && slice == null) {
                slice = new Expr.Slice(t.line(), node, parts[0], parts[1], parts[2]);
            } else {
                throw fail("tuples of slices are not supported", t.line());
            }
        }
        expectOp("]");
        if (slice != null) {
            if (!keys.isEmpty()) {
                throw fail("tuples of slices are not supported", t.line());
            }
            return slice;
        }
        if (keys.isEmpty()) {
            throw fail("expected a subscript, got ']'", t.line());
        }
        Expr key = keys.size() == 1 ? keys.get(0) : new Expr.ListLit(t.line(), keys, true);
        return new Expr.GetItem(t.line(), node, key);
    }

    /** One subscript: {@code [expr]} for an item, {@code [start, stop, step]} for a slice. */
    private Expr[] parseSubscribed() {
        Expr start;
        if (current().isOp(":")) {
            next();
            start = null;
        } else {
            Expr e = parseExpression(true);
            if (!current().isOp(":")) {
                return new Expr[] {e};
            }
            next();
            start = e;
        }
        Expr stop = null;
        if (!current().isOp(":") && !current().isOp("]") && !current().isOp(",")) {
            stop = parseExpression(true);
        }
        Expr step = null;
        if (skipOp(":")) {
            if (!current().isOp("]") && !current().isOp(",")) {
                step = parseExpression(true);
            }
        }
        return new Expr[] {start, stop, step};
    }

    private Expr.CallArgs parseCallArgs() {
        Token open = current();
        expectOp("(");
        List<Expr> positional = new ArrayList<>();
        LinkedHashMap<String, Expr> keywords = new LinkedHashMap<>();
        while (!current().isOp(")")) {
            if (!positional.isEmpty() || !keywords.isEmpty()) {
                expectOp(",");
                if (current().isOp(")")) {
                    break;
                }
            }
            if (current().isOp("*") || current().isOp("**")) {
                throw fail("*args and **kwargs in calls are not supported by this sandbox", current().line());
            }
            if (current().type() == Token.Type.NAME && look().isOp("=")) {
                Token key = next();
                next();
                if (keywords.put(key.value(), parseExpression(true)) != null) {
                    throw fail("keyword argument repeated: " + key.value(), key.line());
                }
            } else {
                if (!keywords.isEmpty()) {
                    throw fail("positional argument follows keyword argument", current().line());
                }
                positional.add(parseExpression(true));
            }
        }
        expectOp(")");
        return new Expr.CallArgs(positional, keywords);
    }

    private String dottedName() {
        StringBuilder name = new StringBuilder(expect(Token.Type.NAME, "a name").value());
        while (current().isOp(".")) {
            next();
            name.append('.').append(expect(Token.Type.NAME, "a name").value());
        }
        return name.toString();
    }

    private Expr.Filter parseFilter(Expr node) {
        int line = current().line();
        String name = dottedName();
        if (!Filters.exists(name)) {
            throw fail("no filter named '" + name + "'", line);
        }
        Expr.CallArgs args = current().isOp("(") ? parseCallArgs() : Expr.CallArgs.NONE;
        return new Expr.Filter(line, node, name, args);
    }

    private Expr parseTest(Expr node) {
        int line = next().line();
        boolean negated = skipName("not");
        String name = dottedName();
        if (!Tests.exists(name)) {
            throw fail("no test named '" + name + "'", line);
        }
        Expr.CallArgs args;
        Token c = current();
        if (c.isOp("(")) {
            args = parseCallArgs();
        } else if ((c.type() == Token.Type.NAME || c.type() == Token.Type.STRING || c.type() == Token.Type.INTEGER
                || c.type() == Token.Type.FLOAT || c.isOp("[") || c.isOp("{"))
                && !c.isName("else") && !c.isName("or") && !c.isName("and")) {
            if (c.isName("is")) {
                throw fail("You cannot chain multiple tests with is", c.line());
            }
            Expr arg = parsePostfix(parsePrimary());
            args = new Expr.CallArgs(List.of(arg), new LinkedHashMap<>());
        } else {
            args = Expr.CallArgs.NONE;
        }
        Expr test = new Expr.Test(line, node, name, args);
        return negated ? new Expr.Not(line, test) : test;
    }
}
