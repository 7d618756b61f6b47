package io.github.amulet4j.jinja;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.IsoFields;
import java.util.Locale;

/** Python's {@code datetime.strftime} in the C locale, for {@code strftime_now(format)}. */
final class Strftime {

    private Strftime() {
    }

    static String format(LocalDateTime t, String fmt) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char f = fmt.charAt(++i);
            switch (f) {
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US));
                case 'w' -> sb.append(t.getDayOfWeek().getValue() % 7);
                case 'd' -> sb.append(pad(t.getDayOfMonth(), 2));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.US));
                case 'm' -> sb.append(pad(t.getMonthValue(), 2));
                case 'y' -> sb.append(pad(t.getYear() % 100, 2));
                case 'Y' -> sb.append(t.getYear());
                case 'H' -> sb.append(pad(t.getHour(), 2));
                case 'I' -> sb.append(pad(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, 2));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'M' -> sb.append(pad(t.getMinute(), 2));
                case 'S' -> sb.append(pad(t.getSecond(), 2));
                case 'f' -> sb.append(pad(t.getNano() / 1000, 6));
                case 'j' -> sb.append(pad(t.getDayOfYear(), 3));
                case 'U' -> sb.append(pad((t.getDayOfYear() + 6 - t.getDayOfWeek().getValue() % 7) / 7, 2));
                case 'W' -> sb.append(pad((t.getDayOfYear() + 7 - t.getDayOfWeek().getValue()) / 7, 2));
                case 'V' -> sb.append(pad(t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR), 2));
                case 'G' -> sb.append(t.get(IsoFields.WEEK_BASED_YEAR));
                case 'u' -> sb.append(t.get(ChronoField.DAY_OF_WEEK));
                case 'z', 'Z' -> { }
                case 'F' -> sb.append(format(t, "%Y-%m-%d"));
                case 'T' -> sb.append(format(t, "%H:%M:%S"));
                case 'D' -> sb.append(format(t, "%m/%d/%y"));
                case 'R' -> sb.append(format(t, "%H:%M"));
                case 'c' -> sb.append(format(t, "%a %b %e %H:%M:%S %Y"));
                case 'x' -> sb.append(format(t, "%m/%d/%y"));
                case 'X' -> sb.append(format(t, "%H:%M:%S"));
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case '%' -> sb.append('%');
                default -> sb.append('%').append(f);
            }
        }
        return sb.toString();
    }

    private static String pad(long v, int width) {
        String s = Long.toString(v);
        return s.length() >= width ? s : "0".repeat(width - s.length()) + s;
    }
}
