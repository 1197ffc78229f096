using CoFUsfl.Models.EntropyModels;

namespace CoFUsfl.Models.Tests.Coding;

/// <summary>EntropyModel.EncodeBatch/DecodeBatch: batch elements on several threads give the same bytes and the same errors.</summary>
[Collection("batch coding threads")]   // the tests switch the process-wide thread setting
public class BatchCodingTests
{
    private const int Batch = 6;
    private static readonly int Per = EntropyModel.ParallelThreshold + 123;

    private static (int[] Symbols, int[] Indexes) Latents()
    {
        var symbols = new int[Batch * Per];
        var indexes = new int[Batch * Per];
        for (var b = 0; b < Batch; b++)
        {
            var (s, i) = RansTestData.GaussianLatent(Per, seed: 100 + b);
            s.CopyTo(symbols, b * Per);
            i.CopyTo(indexes, b * Per);
        }
        return (symbols, indexes);
    }

    private static T OneThread<T>(Func<T> f)
    {
        EntropyModel.MaxDegreeOfParallelism = 1;
        try { return f(); }
        finally { EntropyModel.MaxDegreeOfParallelism = -1; }
    }

    [Fact]
    public void Parallel_and_one_thread_coding_give_the_same_strings_and_symbols()
    {
        var (symbols, indexes) = Latents();
        var table = RansTestData.GaussianTable;
        var parallel = EntropyModel.EncodeBatch(symbols, indexes, Batch, table);
        var serial = OneThread(() => EntropyModel.EncodeBatch(symbols, indexes, Batch, table));
        parallel.Should().HaveCount(Batch);
        for (var b = 0; b < Batch; b++) parallel[b].Should().Equal(serial[b], $"element {b}");
        var decoded = EntropyModel.DecodeBatch(parallel.Select(x => (ReadOnlyMemory<byte>)x).ToList(), indexes, table);
        decoded.Select(v => (int)v).Should().Equal(symbols);
    }

    [Fact]
    public void A_corrupt_element_fails_as_itself_the_lowest_first_like_on_one_thread()
    {
        var (symbols, indexes) = Latents();
        var table = RansTestData.GaussianTable;
        var strings = EntropyModel.EncodeBatch(symbols, indexes, Batch, table).Select(x => (ReadOnlyMemory<byte>)x).ToList();
        strings[4] = strings[4][..^8];                    // truncated
        strings[2] = strings[2].ToArray().Reverse().ToArray();   // garbled
        var parallel = () => EntropyModel.DecodeBatch(strings, indexes, table);
        var error = parallel.Should().Throw<InvalidDataException>().Which.Message;
        var serial = OneThread(() => Record.Exception(() => EntropyModel.DecodeBatch(strings, indexes, table)));
        serial.Should().BeOfType<InvalidDataException>().Which.Message.Should().Be(error, "element 2 fails first either way");
    }
}
