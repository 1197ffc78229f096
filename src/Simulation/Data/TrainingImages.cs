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
}
