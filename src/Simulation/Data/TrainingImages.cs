using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Data;

/// <summary>The training images of a run, by index, grouped in domains (one per training folder).</summary>
public interface ITrainingImages
{
    int Count { get; }
    /// <summary>Image indices of each domain.</summary>
    IReadOnlyList<int[]> Domains { get; }
    /// <summary>A batch [B, 3, crop, crop] in [0, 1]: random crops (and flips) of the given images, drawn with <paramref name="rng"/>.</summary>
    Tensor Batch(IReadOnlyList<int> images, int crop, Random rng);

    /// <summary>
    /// A whole image as float CHW in [0, 1], with a name (the per-client evaluation codes held-out images). By default
    /// a 192-pixel crop (MS-SSIM needs 161) drawn with a seed of the index (sources without files).
    /// </summary>
    (string Name, float[] Chw, int Height, int Width) Image(int index)
    {
        using var t = Batch([index], 192, new Random(index));
        return ($"image-{index}", t.contiguous().data<float>(), 192, 192);
    }
}
