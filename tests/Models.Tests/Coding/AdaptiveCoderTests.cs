using CoFUsfl.Models.Coding;

namespace CoFUsfl.Models.Tests.Coding;

public class AdaptiveCoderTests
{
    private static int[] Laplacian(Random rng, int n, double scale, int shift = 0)
    {
        var v = new int[n];
        for (var i = 0; i < n; i++)
        {
            var u = rng.NextDouble() - 0.5;
            v[i] = (int)Math.Round(-scale * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u))) + shift;
        }
        return v;
    }

    private static int[] Gaussian(Random rng, int n, double sigma)
    {
        var v = new int[n];
        for (var i = 0; i < n; i++)
            v[i] = (int)Math.Round(sigma * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return v;
    }

    private static int[] Decode(AdaptiveCode code, int channels, int per) =>
        AdaptiveCoder.Decode(code.Tables, code.Strings.Select(s => (ReadOnlyMemory<byte>)s).ToArray(), channels, per);

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.5)]
    [InlineData(3)]
    [InlineData(40)]
    public void Laplacian_symbols_round_trip_and_cost_their_empirical_entropy(double scale)
    {
        const int batch = 4, channels = 3, per = 64 * 64;
        var rng = new Random(7);
        var symbols = Laplacian(rng, batch * channels * per, scale, shift: -2);
        var code = AdaptiveCoder.Encode(symbols, batch, channels);
        Decode(code, channels, per).Should().Equal(symbols);
        var s = code.Stats;
        s.BytesWritten.Should().Be(code.Tables.Length + code.Strings.Sum(x => x.Length));
        s.BitsWritten.Should().BeApproximately(s.BitsEstimated, 0.01 * s.BitsEstimated + 64 * batch, "rANS writes the ideal code length of its tables");
        // Within 5 % of the empirical entropy (plus the fixed cost of side information and flushing the states).
        s.BitsWritten.Should().BeLessThan(1.05 * s.EntropyBits + 8 * s.SideBytes + 64 * batch);
        s.BitsWritten.Should().BeGreaterThanOrEqualTo(s.EntropyBits * 0.999);
    }

    [Fact]
    public void Gaussian_symbols_cost_within_5_percent_of_their_empirical_entropy()
    {
        const int batch = 8, channels = 16, per = 32 * 32;
        var rng = new Random(11);
        var symbols = new int[batch * channels * per];
        // Channels of very different spreads: each gets its own table.
        for (var b = 0; b < batch; b++)
            for (var c = 0; c < channels; c++)
                Gaussian(rng, per, 0.2 + c).CopyTo(symbols, (b * channels + c) * per);
        var code = AdaptiveCoder.Encode(symbols, batch, channels);
        Decode(code, channels, per).Should().Equal(symbols);
        code.Stats.BitsWritten.Should().BeLessThan(1.05 * code.Stats.EntropyBits);
    }

    [Fact]
    public void A_constant_channel_costs_almost_nothing()
    {
        var symbols = Enumerable.Repeat(5, 2 * 1 * 10000).ToArray();
        var code = AdaptiveCoder.Encode(symbols, 2, 1);
        Decode(code, 1, 10000).Should().Equal(symbols);
        code.Stats.EntropyBits.Should().Be(0);
        code.Stats.BytesWritten.Should().BeLessThan(40);
    }

    [Fact]
    public void Values_beyond_the_window_are_escaped_and_still_decode()
    {
        var rng = new Random(3);
        var symbols = Laplacian(rng, 2 * 2 * 5000, 2);
        symbols[17] = 100000;
        symbols[4000] = -70000;
        symbols[9999] = 1 << 20;
        for (var i = 12000; i < 12400; i++) symbols[i] = i * 37 % 3000 - 1500; // a wide channel: more than the window
        var code = AdaptiveCoder.Encode(symbols, 2, 2);
        Decode(code, 2, 5000).Should().Equal(symbols);
        code.Stats.BitsWritten.Should().BeApproximately(code.Stats.BitsEstimated, 0.01 * code.Stats.BitsEstimated + 128);
    }

    [Fact]
    public void Malformed_tables_and_strings_are_refused_with_a_reason()
    {
        var rng = new Random(5);
        var symbols = Laplacian(rng, 2 * 3 * 1000, 1.5);
        var code = AdaptiveCoder.Encode(symbols, 2, 3);
        var strings = code.Strings.Select(s => (ReadOnlyMemory<byte>)s).ToArray();
        FluentActions.Invoking(() => AdaptiveCoder.Decode(code.Tables, strings, 4, 1000)).Should().Throw<InvalidDataException>().WithMessage("*3 channels*4*");
        FluentActions.Invoking(() => AdaptiveCoder.Decode(code.Tables.AsSpan(0, code.Tables.Length - 1), strings, 3, 1000)).Should().Throw<InvalidDataException>();
        FluentActions.Invoking(() => AdaptiveCoder.Decode([], strings, 3, 1000)).Should().Throw<InvalidDataException>().WithMessage("*tables*");
        var extra = code.Tables.Append((byte)0).ToArray();
        FluentActions.Invoking(() => AdaptiveCoder.Decode(extra, strings, 3, 1000)).Should().Throw<InvalidDataException>().WithMessage("*after the tables*");
        // A frequency changed: the CDF no longer adds up.
        var bad = (byte[])code.Tables.Clone();
        bad[4] ^= 0x01;
        FluentActions.Invoking(() => AdaptiveCoder.Decode(bad, strings, 3, 1000)).Should().Throw<InvalidDataException>();
        FluentActions.Invoking(() => AdaptiveCoder.Decode(code.Tables, [strings[0]], 3, 1000)).Should().NotThrow("one string is one batch element");
        FluentActions.Invoking(() => AdaptiveCoder.Decode(code.Tables, [], 3, 1000)).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void Fuzzed_tables_never_crash_the_decoder()
    {
        var rng = new Random(9);
        var symbols = Laplacian(rng, 2 * 4 * 500, 1.0);
        var code = AdaptiveCoder.Encode(symbols, 2, 4);
        for (var trial = 0; trial < 2000; trial++)
        {
            var t = (byte[])code.Tables.Clone();
            var s = (byte[])code.Strings[trial % 2].Clone();
            for (var k = 0; k < 1 + trial % 3; k++)
            {
                if (rng.Next(2) == 0) t[rng.Next(t.Length)] = (byte)rng.Next(256);
                else if (s.Length > 0) s[rng.Next(s.Length)] = (byte)rng.Next(256);
            }
            var len = rng.Next(3) == 0 ? rng.Next(t.Length + 1) : t.Length;
            try { AdaptiveCoder.Decode(t.AsSpan(0, len), [s], 4, 500); }
            catch (InvalidDataException) { }
        }
    }
}
