using System.Text;

namespace CoFUsfl.Hocon.Tests;

/// <summary>Property-style, seeded: rendering a generated tree as HOCON (and as JSON) parses back to the same tree.</summary>
public class RoundTripTests
{
    private static readonly HoconOrigin O = HoconOrigin.Synthetic("generated");

    private static readonly string[] KeyPool =
    [
        "a", "b", "key", "with space", "a.b", "", "include", "true", "null", "false", "1", "10", "-x", "x-y_z",
        "quote\"d", "back\\slash", "tab\tkey", "new\nline", "é", "日本", "${x}", "#hash", "//slash", "+=", "a b.c",
    ];

    private static readonly string[] StringPool =
    [
        "", "plain", "with space", " leading", "trailing ", "${x}", "${?y}", "#not comment", "// neither", "\"\"\"",
        "line1\nline2", "tab\there", "\u0001ctl", "\u007f\u0085", "é日本", "\\", "true", "null", "42", "1.5", "a,b", "{}", "[]", "\uFEFF",
    ];

    private static HoconValue Generate(Random rng, int depth)
    {
        int kind = rng.Next(depth <= 0 ? 6 : 8);
        switch (kind)
        {
            case 0: return new HoconString(O, StringPool[rng.Next(StringPool.Length)]);
            case 1: return HoconNumber.FromLong(O, rng.Next(4) switch { 0 => rng.Next(-1000, 1000), 1 => rng.NextInt64(), 2 => long.MinValue, _ => int.MaxValue + 1L });
            case 2:
                double d = rng.Next(5) switch
                {
                    0 => rng.NextDouble(),
                    1 => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-320, 308)),
                    2 => Math.Round(rng.NextDouble() * 1000, 2),
                    3 => -0.0,
                    _ => rng.Next(-5, 5),
                };
                return HoconNumber.FromParsedDouble(O, double.IsFinite(d) ? d : 1.5);
            case 3: return new HoconBoolean(O, rng.Next(2) == 0);
            case 4: return new HoconNull(O);
            case 5: return new HoconString(O, RandomString(rng));
            case 6: return new HoconList(O, Enumerable.Range(0, rng.Next(4)).Select(_ => Generate(rng, depth - 1)).ToArray());
            default:
                var fields = new List<KeyValuePair<string, HoconValue>>();
                var n = rng.Next(5);
                for (int i = 0; i < n; i++)
                    fields.Add(new(KeyPool[rng.Next(KeyPool.Length)], Generate(rng, depth - 1)));
                return new HoconObject(O, fields);
        }
    }

    private static string RandomString(Random rng)
    {
        var sb = new StringBuilder();
        int len = rng.Next(12);
        for (int i = 0; i < len; i++) sb.Append((char)rng.Next(1, 0x3000));
        return sb.ToString().Replace("\ud800", "x");
    }

    private static HoconObject GenerateRoot(Random rng)
    {
        var fields = new List<KeyValuePair<string, HoconValue>>();
        var n = rng.Next(1, 8);
        for (int i = 0; i < n; i++) fields.Add(new(KeyPool[rng.Next(KeyPool.Length)], Generate(rng, 3)));
        return new HoconObject(O, fields);
    }

    /// <summary>Structural equality including number kinds (int/long/double) and double bit patterns.</summary>
    private static bool Same(HoconValue a, HoconValue b) => (a, b) switch
    {
        (HoconObject x, HoconObject y) => x.Count == y.Count && x.Fields.All(f => y.TryGetValue(f.Key, out var v) && Same(f.Value, v)),
        (HoconList x, HoconList y) => x.Items.Count == y.Items.Count && x.Items.Zip(y.Items).All(p => Same(p.First, p.Second)),
        (HoconString x, HoconString y) => x.Value == y.Value,
        (HoconNumber x, HoconNumber y) => x.Kind == y.Kind && (x.IsIntegral ? x.AsLong == y.AsLong : BitConverter.DoubleToInt64Bits(x.AsDouble) == BitConverter.DoubleToInt64Bits(y.AsDouble)),
        (HoconBoolean x, HoconBoolean y) => x.Value == y.Value,
        (HoconNull, HoconNull) => true,
        _ => false,
    };

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 200).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Rendered_hocon_parses_back_to_the_same_tree(int seed)
    {
        var tree = GenerateRoot(new Random(seed));
        var text = tree.Render();
        var parsed = Config.ParseString(text).Resolve(H.NoEnv).Root;
        Same(tree, parsed).Should().BeTrue($"seed {seed} rendered:\n{text}\nparsed back as:\n{parsed.ToJson()}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Concise_json_parses_back_as_strict_json_to_the_same_tree(int seed)
    {
        var tree = GenerateRoot(new Random(seed));
        var json = tree.ToJson();
        var parsed = Config.ParseString(json, "generated.json", HoconSyntax.Json).Root;
        Same(tree, parsed).Should().BeTrue($"seed {seed} json:\n{json}");
    }

    [Fact]
    public void Resolved_file_renders_to_hocon_that_resolves_to_the_same_json()
    {
        var original = H.Resolved("a = [1, 2.0, x]\nb { c = ${a}, \"d.e\" = null }\nf = \"\"\"multi\nline\"\"\"");
        H.Json(original.Render()).Should().Be(original.ToJson());
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(1.0, "1.0")]
    [InlineData(100.0, "100.0")]
    [InlineData(1e7, "1.0E7")]
    [InlineData(9999999.0, "9999999.0")]
    [InlineData(0.001, "0.001")]
    [InlineData(0.0001, "1.0E-4")]
    [InlineData(1.5e300, "1.5E300")]
    [InlineData(-2.5e-5, "-2.5E-5")]
    [InlineData(123456.789, "123456.789")]
    [InlineData(4.9e-324, "4.9E-324")]
    public void Doubles_render_like_java(double value, string expected)
    {
        HoconNumber.FromDouble(O, value).JavaText.Should().Be(expected);
    }
}
