using CoFUsfl.Simulation.Data;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Tests;

/// <summary>Two domains a latent can tell apart (dark noise, bright stripes), 16 images each: the classification specs' data.</summary>
internal sealed class TwoLooks : ITrainingImages
{
    public int Count => 32;
    public IReadOnlyList<int[]> Domains => [Enumerable.Range(0, 16).ToArray(), Enumerable.Range(16, 16).ToArray()];

    public Tensor Batch(IReadOnlyList<int> images, int crop, Random rng)
    {
        var data = new float[images.Count * 3 * crop * crop];
        for (var b = 0; b < images.Count; b++)
            for (var i = 0; i < 3 * crop * crop; i++)
            {
                var x = i % crop;
                var v = images[b] < 16 ? 0.2 + 0.05 * rng.NextDouble() : 0.75 + 0.2 * Math.Sign(Math.Sin(x * 0.8 + images[b]));
                data[b * 3 * crop * crop + i] = (float)v;
            }
        return torch.from_array(data, images.Count, 3, crop, crop);
    }
}
