using System.Diagnostics;
using System.Text.Json.Nodes;

namespace CoFUsfl.Bench;

/// <summary>Options every suite receives from <c>cofusfl bench SUITE</c>.</summary>
/// <param name="Quick">Fewer iterations: for smoke runs, never for reported figures.</param>
/// <param name="Device">"cpu" or "cuda" (suites that need no tensors ignore it).</param>
public sealed record BenchOptions(bool Quick = false, string Device = "cpu", int Seed = 42);

/// <summary>One measured figure. Printed as one JSON object per line by <c>--json</c>.</summary>
public sealed record BenchResult(string Suite, string Name, double Value, string Unit, JsonObject? Extra = null)
{
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["suite"] = Suite, ["name"] = Name, ["value"] = Value, ["unit"] = Unit };
        if (Extra is not null)
            foreach (var (k, v) in Extra) o[k] = v?.DeepClone();
        return o;
    }
}

/// <summary>A named group of benchmarks (<c>torch</c>, <c>actors</c>, <c>rans</c>, …). Discovered by reflection.</summary>
public interface IBenchmarkSuite
{
    string Name { get; }
    string Description { get; }
    IEnumerable<BenchResult> Run(BenchOptions options);
}

/// <summary>Timing helpers: figures are medians of repeated runs, measured in one process.</summary>
public static class Measure
{
    /// <summary>Median wall time of <paramref name="iterations"/> calls after <paramref name="warmup"/> untimed ones, in milliseconds.</summary>
    public static double MedianMs(Action body, int warmup, int iterations)
    {
        for (var i = 0; i < warmup; i++) body();
        var samples = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            body();
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        return Median(samples);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    public static IEnumerable<IBenchmarkSuite> Suites() =>
        typeof(Measure).Assembly.GetTypes()
            .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
            .OrderBy(s => s.Name, StringComparer.Ordinal);
}
