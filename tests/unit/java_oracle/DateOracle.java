// Reference answers from java.text.SimpleDateFormat (Locale.US, non-lenient) for the date engine tests.
// Input lines: "F <pattern> <zone> <epochMillis>" or "P <pattern> <zone> <text>", fields base64 (UTF-8).
// Output lines: the formatted text (base64), or the parsed instant in epoch millis, or "ERR".
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.util.Base64;
import java.util.Date;
import java.util.Locale;
import java.util.TimeZone;

public class DateOracle {
    private static String decode(String field) {
        return new String(Base64.getDecoder().decode(field), StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ", -1);
            try {
                SimpleDateFormat format = new SimpleDateFormat(decode(f[1]), Locale.US);
                format.setLenient(false);
                format.setTimeZone(TimeZone.getTimeZone(decode(f[2])));
                if (f[0].equals("F")) {
                    String text = format.format(new Date(Long.parseLong(f[3])));
                    out.append(Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)));
                } else {
                    out.append(format.parse(decode(f[3])).getTime());
                }
            } catch (Exception e) {
                out.append("ERR");
            }
            out.append('\n');
        }
        System.out.print(out);
    }
}
