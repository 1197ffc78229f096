using System.Globalization;
using System.Text;

namespace CoFUsfl.Hocon;

/// <summary>Java's <c>Double.toString</c> (shortest round-trip digits; plain in [1e-3, 1e7), else <c>d.dddE±n</c>).</summary>
internal static class JavaDouble
{
    public static string ToString(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // Shortest digits that round-trip: "R" gives them; parse its mantissa/exponent.
        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var (digits, exponent) = Decompose(shortest);
        var sb = new StringBuilder();
        if (d < 0) sb.Append('-');
        var abs = Math.Abs(d);
        if (abs >= 1e-3 && abs < 1e7)
        {
            // exponent = position of the decimal point relative to the first digit (value = 0.digits * 10^exponent).
            if (exponent <= 0)
            {
                sb.Append("0.");
                sb.Append('0', -exponent);
                sb.Append(digits);
            }
            else if (exponent >= digits.Length)
            {
                sb.Append(digits);
                sb.Append('0', exponent - digits.Length);
                sb.Append(".0");
            }
            else
            {
                sb.Append(digits, 0, exponent);
                sb.Append('.');
                sb.Append(digits, exponent, digits.Length - exponent);
            }
        }
        else
        {
            // Java prints at least two significant digits here, choosing the closest two-digit value
            // (Double.MIN_VALUE is 4.9E-324, not 5.0E-324).
            if (digits.Length == 1) (digits, exponent) = Decompose(abs.ToString("E1", CultureInfo.InvariantCulture));
            sb.Append(digits[0]);
            sb.Append('.');
            sb.Append(digits.Length > 1 ? digits[1..] : "0");
            sb.Append('E');
            sb.Append((exponent - 1).ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Significant digits (no leading/trailing zeros) and the decimal exponent e with value = 0.DIGITS × 10^e.</summary>
    private static (string Digits, int Exponent) Decompose(string s)
    {
        if (s.StartsWith('-')) s = s[1..];
        int exp = 0;
        var ePos = s.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            exp = int.Parse(s[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..ePos];
        }
        var dot = s.IndexOf('.');
        string intPart = dot >= 0 ? s[..dot] : s;
        string fracPart = dot >= 0 ? s[(dot + 1)..] : "";
        var all = intPart + fracPart;
        int pointPos = intPart.Length + exp;
        int lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') lead++;
        all = all[lead..];
        pointPos -= lead;
        all = all.TrimEnd('0');
        if (all.Length == 0) all = "0";
        return (all, pointPos);
    }

    /// <summary>Java's (long) cast: truncation, NaN → 0, saturating.</summary>
    public static long ToLong(double d)
    {
        if (double.IsNaN(d)) return 0;
        if (d >= 9.2233720368547758E18) return long.MaxValue;
        if (d <= -9.2233720368547758E18) return long.MinValue;
        return (long)d;
    }
}
