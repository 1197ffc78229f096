using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Data;

/// <summary>What <see cref="RandomCropSampler"/> does with an image smaller than the crop.</summary>
public enum SmallImagePolicy
{
    /// <summary>Mirror the image at its borders (numpy "reflect": the edge pixel is not repeated), centred — every image is used.</summary>
    Reflect,
    /// <summary>Leave the image out and draw the next one.</summary>
    Skip,
}

/// <summary>Training crop settings.</summary>
/// <param name="Height">Crop height (CompressAI trains on 256×256).</param>
/// <param name="Width">Crop width.</param>
/// <param name="HorizontalFlip">Flip each crop left–right with probability ½.</param>
public sealed record CropOptions(int Height = 256, int Width = 256, bool HorizontalFlip = true, SmallImagePolicy SmallImages = SmallImagePolicy.Reflect);

/// <summary>Where one crop of a batch came from.</summary>
public readonly record struct CropInfo(int ImageIndex, int X, int Y, bool Flipped);

/// <summary>A batch of crops: <see cref="Data"/> is B × 3 × H × W floats in [0, 1], RGB.</summary>
public sealed record TrainingBatch(float[] Data, int BatchSize, int Height, int Width, CropInfo[] Crops, int Epoch)
{
    /// <summary>Always 3 (RGB).</summary>
    public int Channels => 3;
}

/// <summary>
/// Draws random crops from an <see cref="ImageFolderDataset"/> epoch by epoch: each epoch visits every image once in
/// an order shuffled with the caller's <see cref="Random"/>; a crop's position and flip come from the same generator,
/// so a fixed seed reproduces the batches exactly. Not thread-safe (one sampler per training loop).
/// </summary>
public sealed class RandomCropSampler
{
    private readonly ImageFolderDataset _dataset;
    private readonly CropOptions _options;
    private int[] _order = [];
    private int _next;
    private int _skippedThisEpoch;

    /// <summary>Creates a sampler; the first epoch starts at the first <see cref="NextBatch"/>.</summary>
    public RandomCropSampler(ImageFolderDataset dataset, CropOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Height < 1 || options.Width < 1) throw new ArgumentException($"crop {options.Width}x{options.Height} must be positive");
        _dataset = dataset;
        _options = options;
    }

    private int _epoch = -1;

    /// <summary>Index of the current epoch: 0 until every image has been drawn once, then 1, …</summary>
    public int Epoch => Math.Max(_epoch, 0);

    /// <summary>Next <paramref name="batchSize"/> crops as a new array.</summary>
    public TrainingBatch NextBatch(int batchSize, Random rng)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be ≥ 1");
        var data = new float[(long)batchSize * 3 * _options.Height * _options.Width];
        var crops = FillBatch(data, batchSize, rng);
        return new TrainingBatch(data, batchSize, _options.Height, _options.Width, crops, Epoch);
    }

    /// <summary>Writes <paramref name="batchSize"/> crops into <paramref name="destination"/> (B × 3 × H × W) without allocating sample memory.</summary>
    public CropInfo[] FillBatch(Span<float> destination, int batchSize, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var per = 3 * _options.Height * _options.Width;
        if (destination.Length < (long)batchSize * per)
            throw new ArgumentException($"destination holds {destination.Length} floats, a batch needs {(long)batchSize * per}", nameof(destination));
        var crops = new CropInfo[batchSize];
        for (var b = 0; b < batchSize; b++)
        {
            while (true)
            {
                var index = NextIndex(rng);
                var img = _dataset.Load(index);
                if (_options.SmallImages == SmallImagePolicy.Skip && (img.Width < _options.Width || img.Height < _options.Height))
                {
                    if (++_skippedThisEpoch >= _dataset.Count)
                        throw new InvalidOperationException($"no image in the dataset is at least {_options.Width}x{_options.Height}; use SmallImagePolicy.Reflect or a smaller crop");
                    continue;
                }
                crops[b] = Crop(img, index, rng, destination.Slice(b * per, per));
                break;
            }
        }
        return crops;
    }

    private int NextIndex(Random rng)
    {
        if (_next >= _order.Length)
        {
            _order = Enumerable.Range(0, _dataset.Count).ToArray();
            rng.Shuffle(_order);
            _next = 0;
            _skippedThisEpoch = 0;
            _epoch++;
        }
        return _order[_next++];
    }

    private CropInfo Crop(Image img, int index, Random rng, Span<float> dst)
    {
        int ch = _options.Height, cw = _options.Width;
        // Offsets: uniform when the image is large enough, else centred on the mirrored image (negative start).
        var x0 = img.Width >= cw ? rng.Next(img.Width - cw + 1) : -((cw - img.Width) / 2);
        var y0 = img.Height >= ch ? rng.Next(img.Height - ch + 1) : -((ch - img.Height) / 2);
        var flip = _options.HorizontalFlip && rng.Next(2) == 1;

        Span<int> xs = cw <= 4096 ? stackalloc int[cw] : new int[cw];
        for (var i = 0; i < cw; i++) xs[flip ? cw - 1 - i : i] = Reflect(x0 + i, img.Width);
        var plane = ch * cw;
        var channels = img.Channels;
        var colour = channels >= 3;
        float max = img.MaxValue;
        for (var y = 0; y < ch; y++)
        {
            var sy = Reflect(y0 + y, img.Height);
            var rowBase = sy * img.Width;
            var r = dst.Slice(y * cw, cw);
            var g = dst.Slice(plane + y * cw, cw);
            var b = dst.Slice(2 * plane + y * cw, cw);
            if (img.BitDepth == 8)
            {
                var d = img.Data8;
                for (var x = 0; x < cw; x++)
                {
                    var o = (rowBase + xs[x]) * channels;
                    r[x] = d[o] / max;
                    g[x] = d[colour ? o + 1 : o] / max;
                    b[x] = d[colour ? o + 2 : o] / max;
                }
            }
            else
            {
                var d = img.Data16;
                for (var x = 0; x < cw; x++)
                {
                    var o = (rowBase + xs[x]) * channels;
                    r[x] = d[o] / max;
                    g[x] = d[colour ? o + 1 : o] / max;
                    b[x] = d[colour ? o + 2 : o] / max;
                }
            }
        }
        return new CropInfo(index, x0, y0, flip);
    }

    /// <summary>numpy "reflect" index: …2 1 [0 1 2 … n−1] n−2 …, repeated for any distance.</summary>
    internal static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        var period = 2 * n - 2;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }
}
