using System.Globalization;
using System.Numerics;

namespace CoFUsfl.Hocon;

/// <summary>Lightbend's duration and size parsing (units are case-sensitive; a bare number is ms or bytes).</summary>
internal static class Units
{
    private static string TrailingLetters(string s)
    {
        int i = s.Length;
        while (i > 0 && char.IsLetter(s[i - 1])) i--;
        return s[i..];
    }

    public static long ParseDurationNanos(string input, HoconOrigin origin, string path)
    {
        var s = input.Trim();
        var originalUnit = TrailingLetters(s);
        var unit = originalUnit;
        var number = s[..^unit.Length].Trim();
        if (number.Length == 0) throw new HoconException(origin, $"Invalid value at '{path}': No number in duration value '{input}'");
        if (unit.Length > 2 && !unit.EndsWith('s')) unit += "s";
        long nanosPerUnit = unit switch
        {
            "" or "ms" or "millis" or "milliseconds" => 1_000_000L,
            "us" or "micros" or "microseconds" => 1_000L,
            "ns" or "nanos" or "nanoseconds" => 1L,
            "d" or "days" => 86_400_000_000_000L,
            "h" or "hours" => 3_600_000_000_000L,
            "s" or "seconds" => 1_000_000_000L,
            "m" or "minutes" => 60_000_000_000L,
            _ => throw new HoconException(origin, $"Invalid value at '{path}': Could not parse time unit '{originalUnit}' (try ns, us, ms, s, m, h, d)"),
        };
        if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && number.TrimStart('+', '-').All(char.IsAsciiDigit))
        {
            var total = (BigInteger)l * nanosPerUnit;
            return total > long.MaxValue ? long.MaxValue : total < long.MinValue ? long.MinValue : (long)total;
        }
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return JavaDouble.ToLong(d * nanosPerUnit);
        throw new HoconException(origin, $"Invalid value at '{path}': Could not parse duration number '{number}'");
    }

    private static readonly Dictionary<string, BigInteger> ByteUnits = BuildByteUnits();

    private static Dictionary<string, BigInteger> BuildByteUnits()
    {
        var map = new Dictionary<string, BigInteger>(StringComparer.Ordinal)
        {
            [""] = 1, ["b"] = 1, ["B"] = 1, ["byte"] = 1, ["bytes"] = 1,
        };
        string[] si = ["kilo", "mega", "giga", "tera", "peta", "exa", "zetta", "yotta"];
        string[] iec = ["kibi", "mebi", "gibi", "tebi", "pebi", "exbi", "zebi", "yobi"];
        for (int p = 1; p <= 8; p++)
        {
            var dec = BigInteger.Pow(1000, p);
            var bin = BigInteger.Pow(1024, p);
            var sp = si[p - 1];
            map[sp + "byte"] = dec;
            map[sp + "bytes"] = dec;
            map[(p == 1 ? sp[..1] : sp[..1].ToUpperInvariant()) + "B"] = dec;
            var ip = iec[p - 1];
            map[ip + "byte"] = bin;
            map[ip + "bytes"] = bin;
            var first = ip[..1];
            map[first] = bin;
            map[first.ToUpperInvariant()] = bin;
            map[first.ToUpperInvariant() + "i"] = bin;
            map[first.ToUpperInvariant() + "iB"] = bin;
        }
        return map;
    }

    public static long ParseBytes(string input, HoconOrigin origin, string path)
    {
        var s = input.Trim();
        var unit = TrailingLetters(s);
        var number = s[..^unit.Length].Trim();
        if (number.Length == 0) throw new HoconException(origin, $"Invalid value at '{path}': No number in size-in-bytes value '{input}'");
        if (!ByteUnits.TryGetValue(unit, out var factor))
            throw new HoconException(origin, $"Invalid value at '{path}': Could not parse size-in-bytes unit '{unit}' (try k, K, kB, KiB, kilobytes, kibibytes)");
        BigInteger result;
        if (number.TrimStart('+', '-').All(char.IsAsciiDigit) && BigInteger.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bi))
            result = bi * factor;
        else if (decimal.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var dec))
        {
            try
            {
                result = new BigInteger(dec * (decimal)factor);
            }
            catch (OverflowException)
            {
                throw new HoconException(origin, $"Invalid value at '{path}': size-in-bytes value is out of range for a 64-bit long: '{input}'");
            }
        }
        else throw new HoconException(origin, $"Invalid value at '{path}': Could not parse size-in-bytes number '{number}'");
        if (result < long.MinValue || result > long.MaxValue)
            throw new HoconException(origin, $"Invalid value at '{path}': size-in-bytes value is out of range for a 64-bit long: '{input}'");
        return (long)result;
    }

    /// <summary>Lightbend's period format: an int with d/day(s), w/week(s), m/mo/month(s), y/year(s); no unit is days.</summary>
    public static HoconPeriod ParsePeriod(string input, HoconOrigin origin, string path)
    {
        var s = input.Trim();
        var originalUnit = TrailingLetters(s);
        var unit = originalUnit;
        var number = s[..^unit.Length].Trim();
        if (number.Length == 0) throw new HoconException(origin, $"Invalid value at '{path}': No number in period value '{input}'");
        if (unit.Length > 2 && !unit.EndsWith('s')) unit += "s";
        if (!int.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            throw new HoconException(origin, $"Invalid value at '{path}': Could not parse period number '{number}'");
        return unit switch
        {
            "" or "d" or "days" => new HoconPeriod(0, 0, n),
            "w" or "weeks" => new HoconPeriod(0, 0, checked(n * 7)),
            "m" or "mo" or "months" => new HoconPeriod(0, n, 0),
            "y" or "years" => new HoconPeriod(n, 0, 0),
            _ => throw new HoconException(origin, $"Invalid value at '{path}': Could not parse time unit '{originalUnit}' (try d, w, mo, y)"),
        };
    }
}

/// <summary>A date-based amount of time (java.time.Period): years, months and days are kept apart.</summary>
public readonly record struct HoconPeriod(int Years, int Months, int Days);
