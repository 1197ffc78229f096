using System.Text.Json.Nodes;
using CoFUsfl.Models.Coding;

namespace CoFUsfl.Bench;

/// <summary>
/// rANS throughput on a Kodak-like latent: 192×32×48 symbols, scales log-uniform in [0.11, 64], CompressAI's
/// 64-entry Gaussian scale table. Reports encode and decode millions of symbols per second (medians).
/// </summary>
public sealed class RansBench : IBenchmarkSuite
{
    public string Name => "rans";
    public string Description => "rANS entropy coder: encode/decode Msym/s on Gaussian-table latent data (192x32x48)";

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        const int channels = 192, height = 32, width = 48;
        var n = channels * height * width;
        var scaleTable = GaussianCdfTables.ScaleTable();
        var table = GaussianCdfTables.Build(scaleTable);
        var rng = new Random(options.Seed);
        var scales = new float[n];
        var symbols = new int[n];
        for (var i = 0; i < n; i++)
        {
            var s = Math.Exp(Math.Log(0.11) + rng.NextDouble() * (Math.Log(64) - Math.Log(0.11)));
            scales[i] = (float)s;
            var z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            symbols[i] = (int)Math.Round(z * s, MidpointRounding.AwayFromZero);
        }
        var indexes = GaussianCdfTables.BuildIndexes(scales, scaleTable);
        var stream = RansEncoder.EncodeWithIndexes(symbols, indexes, table);
        var decoded = new int[n];
        RansDecoder.DecodeWithIndexes(stream, indexes, table, decoded);
        if (!decoded.AsSpan().SequenceEqual(symbols)) throw new InvalidOperationException("rANS round trip failed");

        var (warmup, iterations) = options.Quick ? (2, 5) : (10, 40);
        var encMs = Measure.MedianMs(() => RansEncoder.EncodeWithIndexes(symbols, indexes, table), warmup, iterations);
        var decMs = Measure.MedianMs(() => RansDecoder.DecodeWithIndexes(stream, indexes, table, decoded), warmup, iterations);
        var extra = new JsonObject
        {
            ["symbols"] = n,
            ["bytes"] = stream.Length,
            ["bits_per_symbol"] = 8.0 * stream.Length / n,
            ["table_version"] = table.VersionId,
        };
        yield return new BenchResult(Name, "encode_msym_per_s", n / (encMs * 1e3), "Msym/s", extra);
        yield return new BenchResult(Name, "decode_msym_per_s", n / (decMs * 1e3), "Msym/s", (JsonObject)extra.DeepClone());
        yield return new BenchResult(Name, "encode_ms", encMs, "ms");
        yield return new BenchResult(Name, "decode_ms", decMs, "ms");

        // A batch of 8 such latents through EntropyModel.EncodeBatch/DecodeBatch (one string per element, elements on
        // several threads), against the same work element by element on one thread: the ratio is the parallel speed-up.
        const int batch = 8;
        var bSymbols = new int[batch * n];
        var bIndexes = new int[batch * n];
        for (var b = 0; b < batch; b++) { symbols.CopyTo(bSymbols, b * n); indexes.CopyTo(bIndexes, b * n); }
        var bStrings = CoFUsfl.Models.EntropyModels.EntropyModel.EncodeBatch(bSymbols, bIndexes, batch, table);
        var mem = bStrings.Select(x => (ReadOnlyMemory<byte>)x).ToList();
        var batchEncMs = Measure.MedianMs(() => CoFUsfl.Models.EntropyModels.EntropyModel.EncodeBatch(bSymbols, bIndexes, batch, table), warmup / 2, iterations / 4);
        var batchDecMs = Measure.MedianMs(() => CoFUsfl.Models.EntropyModels.EntropyModel.DecodeBatch(mem, bIndexes, table), warmup / 2, iterations / 4);
        double serialDecMs;
        CoFUsfl.Models.EntropyModels.EntropyModel.MaxDegreeOfParallelism = 1;
        try { serialDecMs = Measure.MedianMs(() => CoFUsfl.Models.EntropyModels.EntropyModel.DecodeBatch(mem, bIndexes, table), warmup / 2, iterations / 4); }
        finally { CoFUsfl.Models.EntropyModels.EntropyModel.MaxDegreeOfParallelism = -1; }
        var bExtra = new JsonObject { ["batch"] = batch, ["symbols"] = batch * n, ["processors"] = Environment.ProcessorCount };
        yield return new BenchResult(Name, "batch8_encode_msym_per_s", batch * n / (batchEncMs * 1e3), "Msym/s", bExtra);
        yield return new BenchResult(Name, "batch8_decode_msym_per_s", batch * n / (batchDecMs * 1e3), "Msym/s", (JsonObject)bExtra.DeepClone());
        yield return new BenchResult(Name, "batch8_decode_speedup", serialDecMs / batchDecMs, "x (one thread / batch-parallel)", (JsonObject)bExtra.DeepClone());
    }
}
