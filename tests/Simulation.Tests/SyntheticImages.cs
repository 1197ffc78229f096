using CoFUsfl.Simulation.Data;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Tests;

/// <summary>Smooth random images (sums of low-frequency cosines) in two "domains": a fast, file-free data source for protocol tests.</summary>
public sealed class SyntheticImages(int count = 16) : ITrainingImages
{
    public int Count => count;
    public IReadOnlyList<int[]> Domains => [Enumerable.Range(0, count / 2).ToArray(), Enumerable.Range(count / 2, count - count / 2).ToArray()];

    public Tensor Batch(IReadOnlyList<int> images, int crop, Random rng)
    {
        var data = new float[images.Count * 3 * crop * crop];
        for (var b = 0; b < images.Count; b++)
        {
            var r = new Random(images[b] * 7919);
            var fx = 1 + r.Next(4); var fy = 1 + r.Next(4); var phase = rng.NextDouble() * 6.28;
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < crop; y++)
                    for (var x = 0; x < crop; x++)
                        data[((b * 3 + c) * crop + y) * crop + x] = (float)(0.5 + 0.35 * Math.Cos(fx * x / (double)crop * 6.28 + phase + c) * Math.Sin(fy * y / (double)crop * 6.28 + c));
        }
        return torch.from_array(data, images.Count, 3, crop, crop);
    }
}
