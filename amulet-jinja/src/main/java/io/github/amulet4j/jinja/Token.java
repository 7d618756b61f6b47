package io.github.amulet4j.jinja;

/** One lexical token of a template, with the line it starts on. */
record Token(Type type, String value, int line) {

    enum Type {
        DATA, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF
    }

    boolean is(Type t, String v) {
        return type == t && value.equals(v);
    }

    boolean isOp(String v) {
        return type == Type.OPERATOR && value.equals(v);
    }

    boolean isName(String v) {
        return type == Type.NAME && value.equals(v);
    }

    String describe() {
        return switch (type) {
            case EOF -> "end of template";
            case VAR_END -> "end of print statement";
            case BLOCK_END -> "end of statement block";
            case DATA -> "template data";
            case STRING -> "string";
            case NAME, OPERATOR, INTEGER, FLOAT -> "'" + value + "'";
            default -> type.name().toLowerCase();
        };
    }
}
