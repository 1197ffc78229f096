using CoFUsfl.Models.Coding;

namespace CoFUsfl.Models.Tests.Coding;

public class CdfTableTests
{
    [Fact]
    public void Serialization_round_trips_bytes_hash_and_coding()
    {
        var table = RansTestData.GaussianTable;
        var bytes = table.Serialize();
        var copy = CdfTable.Deserialize(bytes);
        copy.Serialize().Should().Equal(bytes);
        copy.ContentHash.Should().Be(table.ContentHash).And.HaveLength(64);
        copy.VersionId.Should().Be(table.ContentHash[..16]);
        for (var i = 0; i < table.Count; i++)
        {
            copy.GetCdf(i).ToArray().Should().Equal(table.GetCdf(i).ToArray());
            copy.GetOffset(i).Should().Be(table.GetOffset(i));
        }
        var (symbols, indexes) = RansTestData.GaussianLatent(3000, seed: 21);
        RansDecoder.DecodeWithIndexes(RansEncoder.EncodeWithIndexes(symbols, indexes, table), indexes, copy).Should().Equal(symbols);
    }

    [Fact]
    public void Stream_round_trip_through_WriteTo_and_ReadFrom()
    {
        var table = new CdfTable([[0, 100, 65536]], [3], [-1]);
        using var ms = new MemoryStream();
        table.WriteTo(ms);
        ms.Position = 0;
        CdfTable.ReadFrom(ms).ContentHash.Should().Be(table.ContentHash);
    }

    [Fact]
    public void Different_tables_have_different_hashes()
    {
        var a = new CdfTable([[0, 100, 65536]], [3], [-1]);
        var b = new CdfTable([[0, 101, 65536]], [3], [-1]);
        var c = new CdfTable([[0, 100, 65536]], [3], [0]);
        new[] { a.ContentHash, b.ContentHash, c.ContentHash }.Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Corrupt_serializations_are_rejected()
    {
        var bytes = RansTestData.GaussianTable.Serialize();
        var flipped = (byte[])bytes.Clone();
        flipped[100] ^= 1;
        FluentActions.Invoking(() => CdfTable.Deserialize(flipped)).Should().Throw<InvalidDataException>().WithMessage("*CRC*");
        FluentActions.Invoking(() => CdfTable.Deserialize(bytes.AsSpan(0, bytes.Length / 2))).Should().Throw<InvalidDataException>();
        FluentActions.Invoking(() => CdfTable.Deserialize(new byte[10])).Should().Throw<InvalidDataException>();
        var badMagic = (byte[])bytes.Clone();
        badMagic[0] = (byte)'X';
        FluentActions.Invoking(() => CdfTable.Deserialize(badMagic)).Should().Throw<InvalidDataException>().WithMessage("*magic*");
    }

    [Fact]
    public void Invalid_cdfs_are_rejected_naming_the_cdf()
    {
        FluentActions.Invoking(() => new CdfTable([[0, 100, 65536], [0, 5, 5, 65536]], [3, 4], [0, 0]))
            .Should().Throw<ArgumentException>().WithMessage("*cdfs[1]*");
        FluentActions.Invoking(() => new CdfTable([[0, 100, 65535]], [3], [0]))
            .Should().Throw<ArgumentException>().WithMessage("*must end at*");
        FluentActions.Invoking(() => new CdfTable([[0, 100, 65536]], [4], [0]))
            .Should().Throw<ArgumentException>().WithMessage("*cdfLengths[0]*");
    }

    [Fact]
    public void Padded_CompressAI_rows_are_accepted()
    {
        var t = new CdfTable([[0, 65536, 0, 0], [0, 30000, 65536, 0]], [2, 3], [0, -1]);
        t.MaxLength.Should().Be(3);
        var (rows, lengths, offsets) = t.ToCompressAI();
        rows[0].Should().Equal(0, 65536, 0);
        lengths.Should().Equal(2, 3);
        offsets.Should().Equal(0, -1);
    }
}
