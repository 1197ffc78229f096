using CoFUsfl.Models.Coding;

namespace CoFUsfl.Models.Tests.Coding;

public class RansCoderTests
{
    private static CdfTable RandomTable(Random rng, int count, int maxSymbols, bool skewed = false)
    {
        var cdfs = new int[count][];
        var lengths = new int[count];
        var offsets = new int[count];
        for (var i = 0; i < count; i++)
        {
            var n = rng.Next(1, maxSymbols + 1);
            var pmf = new float[n];
            for (var k = 0; k < n; k++) pmf[k] = skewed ? (float)Math.Pow(0.3, k) : (float)rng.NextDouble() + 0.01f;
            var sum = pmf.Sum();
            for (var k = 0; k < n; k++) pmf[k] /= sum;
            cdfs[i] = QuantizedCdf.FromPmfWithTail(pmf, 1e-6f);
            lengths[i] = cdfs[i].Length;
            offsets[i] = rng.Next(-20, 5);
        }
        return new CdfTable(cdfs, lengths, offsets);
    }

    private static void AssertRoundTrip(int[] symbols, int[] indexes, CdfTable table)
    {
        var bytes = RansEncoder.EncodeWithIndexes(symbols, indexes, table);
        RansDecoder.DecodeWithIndexes(bytes, indexes, table).Should().Equal(symbols);
        var (cdfs, lengths, offsets) = table.ToCompressAI();
        bytes.Should().Equal(RansTestData.ReferenceEncode(symbols, indexes, cdfs, lengths, offsets),
            "the reciprocal encoder must produce CompressAI's bytes");
    }

    [Fact]
    public void Empty_input_is_just_the_flushed_initial_state()
    {
        var table = RandomTable(new Random(1), 1, 4);
        var bytes = RansEncoder.EncodeWithIndexes([], [], table);
        bytes.Should().Equal(0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00); // RANS64_L = 2^31, low word first
        RansDecoder.DecodeWithIndexes(bytes, [], table).Should().BeEmpty();
    }

    [Fact]
    public void Uniformly_random_in_range_symbols_round_trip()
    {
        var rng = new Random(7);
        var table = RandomTable(rng, 8, 40);
        var n = 20000;
        var indexes = new int[n];
        var symbols = new int[n];
        for (var i = 0; i < n; i++)
        {
            indexes[i] = rng.Next(table.Count);
            symbols[i] = table.GetOffset(indexes[i]) + rng.Next(table.GetLength(indexes[i]) - 2);
        }
        AssertRoundTrip(symbols, indexes, table);
    }

    [Fact]
    public void Skewed_distributions_round_trip()
    {
        var rng = new Random(8);
        var table = RandomTable(rng, 4, 30, skewed: true);
        var n = 20000;
        var indexes = new int[n];
        var symbols = new int[n];
        for (var i = 0; i < n; i++)
        {
            indexes[i] = rng.Next(table.Count);
            var k = 0;
            while (k < table.GetLength(indexes[i]) - 3 && rng.NextDouble() < 0.3) k++;
            symbols[i] = table.GetOffset(indexes[i]) + k;
        }
        AssertRoundTrip(symbols, indexes, table);
    }

    [Fact]
    public void Single_symbol_and_escape_only_tables_round_trip()
    {
        // Length 3: one regular symbol (value 5) and the escape; length 2: every value is bypass-coded.
        var table = new CdfTable([[0, 65535, 65536], [0, 65536]], [3, 2], [5, 0]);
        var symbols = new[] { 5, 5, 6, 4, 5, -3, 0, 1, 100, 5 };
        var indexes = new[] { 0, 0, 0, 0, 0, 1, 1, 1, 1, 0 };
        AssertRoundTrip(symbols, indexes, table);
        RansEncoder.EncodeWithIndexes(Enumerable.Repeat(5, 1000).ToArray(), new int[1000], table).Length
            .Should().BeLessThan(16, "1000 near-certain symbols cost almost nothing");
    }

    [Fact]
    public void Out_of_range_values_use_the_escape_path_large_and_negative()
    {
        var table = RansTestData.GaussianTable;
        var rng = new Random(9);
        var n = 5000;
        var indexes = new int[n];
        var symbols = new int[n];
        for (var i = 0; i < n; i++)
        {
            indexes[i] = rng.Next(table.Count);
            symbols[i] = (i % 5) switch
            {
                0 => rng.Next(-3, 4),
                1 => rng.Next(-100000, 100000),
                2 => (1 << 27) - 1 - rng.Next(1000) + table.GetOffset(indexes[i]) + table.GetLength(indexes[i]) - 2, // up to the +limit
                3 => -(1 << 27) + rng.Next(1000) + table.GetOffset(indexes[i]),                                         // down to the −limit
                _ => table.GetOffset(indexes[i]) - 1 - rng.Next(3), // just below the table
            };
        }
        AssertRoundTrip(symbols, indexes, table);
    }

    [Fact]
    public void Values_beyond_the_bypass_limit_are_rejected_with_their_position()
    {
        var table = RansTestData.GaussianTable;
        FluentActions.Invoking(() => RansEncoder.EncodeWithIndexes([0, int.MaxValue], [0, 0], table))
            .Should().Throw<ArgumentException>().WithMessage("*symbols[1]*");
        FluentActions.Invoking(() => RansEncoder.EncodeWithIndexes([(1 << 27) + 10], [0], table))
            .Should().Throw<ArgumentException>().WithMessage("*symbols[0]*");
    }

    [Fact]
    public void Gaussian_latent_matches_the_reference_encoder_and_round_trips()
    {
        var (symbols, indexes) = RansTestData.GaussianLatent(30000, seed: 3);
        AssertRoundTrip(symbols, indexes, RansTestData.GaussianTable);
    }

    [Fact]
    public void Coded_size_is_within_one_percent_of_the_information_content()
    {
        var table = RansTestData.GaussianTable;
        var scales = RansTestData.ScaleTable;
        var (symbols, indexes) = RansTestData.GaussianLatent(100_000, seed: 11);
        double idealBits = 0, quantizedBits = 0;
        for (var i = 0; i < symbols.Length; i++)
        {
            var s = scales[indexes[i]];
            var v = Math.Abs(symbols[i]);
            var p = GaussianCdfTables.StandardNormalCdf((0.5 - v) / s) - GaussianCdfTables.StandardNormalCdf((-0.5 - v) / s);
            idealBits -= Math.Log2(p);
            var cdf = table.GetCdf(indexes[i]);
            var k = symbols[i] - table.GetOffset(indexes[i]);
            quantizedBits -= Math.Log2((cdf[k + 1] - cdf[k]) / 65536.0);
        }
        var codedBits = 8.0 * RansEncoder.EncodeWithIndexes(symbols, indexes, table).Length;
        idealBits.Should().BeGreaterThan(100_000, "the test needs a non-trivial amount of information");
        codedBits.Should().BeInRange(idealBits * 0.99, idealBits * 1.01);
        codedBits.Should().BeInRange(quantizedBits, quantizedBits + 128, "rANS adds only the 64-bit flush and word rounding");
    }

    [Fact]
    public void Truncated_or_padded_streams_raise_InvalidDataException()
    {
        var table = RansTestData.GaussianTable;
        var (symbols, indexes) = RansTestData.GaussianLatent(5000, seed: 4);
        var bytes = RansEncoder.EncodeWithIndexes(symbols, indexes, table);
        foreach (var cut in new[] { 4, 8, bytes.Length - 8, bytes.Length - 4 })
            FluentActions.Invoking(() => RansDecoder.DecodeWithIndexes(bytes.AsSpan(0, bytes.Length - cut), indexes, table))
                .Should().Throw<InvalidDataException>($"cutting {cut} bytes");
        FluentActions.Invoking(() => RansDecoder.DecodeWithIndexes(bytes.AsSpan(0, bytes.Length - 1), indexes, table))
            .Should().Throw<InvalidDataException>().WithMessage("*multiple of 4*");
        FluentActions.Invoking(() => RansDecoder.DecodeWithIndexes(bytes.Concat(new byte[4]).ToArray(), indexes, table))
            .Should().Throw<InvalidDataException>().WithMessage("*left after the last symbol*");
    }

    [Fact]
    public void Corrupted_streams_fail_only_with_InvalidDataException()
    {
        var table = RansTestData.GaussianTable;
        var (symbols, indexes) = RansTestData.GaussianLatent(3000, seed: 5);
        var bytes = RansEncoder.EncodeWithIndexes(symbols, indexes, table);
        var rng = new Random(6);
        var detected = 0;
        for (var trial = 0; trial < 200; trial++)
        {
            var bad = (byte[])bytes.Clone();
            bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
            try { RansDecoder.DecodeWithIndexes(bad, indexes, table); }
            catch (InvalidDataException) { detected++; }
        }
        detected.Should().BeGreaterThan(150, "the end-of-stream state check catches almost every bit flip");
    }

    [Fact]
    public void Index_outside_the_table_is_named()
    {
        var table = RansTestData.GaussianTable;
        FluentActions.Invoking(() => RansEncoder.EncodeWithIndexes([0, 0, 0], [0, 64, 0], table))
            .Should().Throw<ArgumentException>().WithMessage("*indexes[1] = 64*");
        var ok = RansEncoder.EncodeWithIndexes([0, 0, 0], [0, 1, 2], table);
        FluentActions.Invoking(() => RansDecoder.DecodeWithIndexes(ok, [0, -1, 2], table))
            .Should().Throw<ArgumentException>().WithMessage("*indexes[1] = -1*");
    }

    [Fact]
    public void Incremental_decoding_in_chunks_equals_whole_stream_decoding()
    {
        var table = RansTestData.GaussianTable;
        var (symbols, indexes) = RansTestData.GaussianLatent(4000, seed: 12);
        var bytes = RansEncoder.EncodeWithIndexes(symbols, indexes, table);
        var decoder = new RansDecoder();
        decoder.SetStream(bytes);
        var output = new List<int>();
        for (var start = 0; start < indexes.Length; start += 333)
        {
            var len = Math.Min(333, indexes.Length - start);
            decoder.IsAtEnd.Should().BeFalse();
            output.AddRange(decoder.DecodeStream(indexes.AsSpan(start, len), table));
        }
        output.Should().Equal(symbols);
        decoder.IsAtEnd.Should().BeTrue();
        decoder.EnsureAtEnd();
    }

    [Fact]
    public void CompressAI_style_list_overloads_and_span_destination_agree()
    {
        var table = RansTestData.GaussianTable;
        var (symbols, indexes) = RansTestData.GaussianLatent(2000, seed: 13);
        var (cdfs, lengths, offsets) = table.ToCompressAI();
        var viaLists = RansEncoder.EncodeWithIndexes(symbols, indexes, cdfs, lengths, offsets);
        viaLists.Should().Equal(RansEncoder.EncodeWithIndexes(symbols, indexes, table));
        RansDecoder.DecodeWithIndexes(viaLists, indexes, cdfs, lengths, offsets).Should().Equal(symbols);

        var small = new byte[8];
        RansEncoder.TryEncodeWithIndexes(symbols, indexes, table, small, out var needed).Should().BeFalse();
        needed.Should().Be(viaLists.Length);
        var dest = new byte[needed];
        RansEncoder.TryEncodeWithIndexes(symbols, indexes, table, dest, out var written).Should().BeTrue();
        dest.AsSpan(0, written).ToArray().Should().Equal(viaLists);
    }
}
