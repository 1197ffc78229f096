using System.Collections.Concurrent;
using CoFUsfl.Models.Evaluation;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Data;

/// <summary>
/// The training folders of a run (one domain each), decoded once when loaded (a broken image stops the run before
/// round 1) and cached as 8-bit RGB (a few hundred MB for the three shipped sets), so clients cropping the same image share one copy.
/// </summary>
public sealed class TrainingImageSet : ITrainingImages
{
    private readonly List<string> files = [];
    private readonly List<int[]> domains = [];
    private readonly ConcurrentDictionary<int, Rgb8> cache = new();

    public int Count => files.Count;
    public IReadOnlyList<int[]> Domains => domains;
    public IReadOnlyList<string> Files => files;

    private TrainingImageSet() { }

    /// <summary>Lists the images of each folder (relative folders under <paramref name="root"/>); an empty or missing folder is an error naming it.</summary>
    public static TrainingImageSet Load(string root, IReadOnlyList<string> folders)
    {
        var set = new TrainingImageSet();
        foreach (var f in folders)
        {
            var path = Path.IsPathRooted(f) ? f : Path.Combine(root, f);
            if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"training folder '{f}' not found at {Path.GetFullPath(path)} (cofusfl.data.root = {root})");
            var list = ImageBridge.List(path);
            if (list.Count == 0) throw new InvalidDataException($"training folder {Path.GetFullPath(path)} holds no PNG or JPEG image");
            var start = set.files.Count;
            set.files.AddRange(list);
            set.domains.Add(Enumerable.Range(start, list.Count).ToArray());
            // Images are decoded lazily by the clients otherwise: a decoder that cannot work at all (libturbojpeg missing)
            // or any broken image must stop the run here, not fail every client that samples it, round after round. So
            // every image is decoded once now (and kept: the cache would hold it after the first batch that uses it).
            var failures = new Exception?[list.Count];
            Parallel.For(0, list.Count, i =>
            {
                try { set.cache[start + i] = ImageBridge.LoadRgb8(list[i]); }
                catch (Exception e) when (e is not OutOfMemoryException) { failures[i] = e; }
            });
            for (var i = 0; i < list.Count; i++)
                if (failures[i] is { } e)
                {
                    var name = Path.GetFileName(list[i]);
                    throw new InvalidDataException($"training folder {Path.GetFullPath(path)}: " + (e.Message.Contains(name, StringComparison.Ordinal) ? e.Message : $"{name}: {e.Message}"), e);
                }
        }
        return set;
    }

    public (string Name, float[] Chw, int Height, int Width) Image(int index)
    {
        var img = Get(index);
        var plane = img.Width * img.Height;
        var chw = new float[3 * plane];
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++) chw[c * plane + i] = img.Pixels[i * 3 + c] / 255f;
        return (Path.GetFileName(files[index]), chw, img.Height, img.Width);
    }

    private Rgb8 Get(int index) => cache.GetOrAdd(index, i => ImageBridge.LoadRgb8(files[i]));

    public Tensor Batch(IReadOnlyList<int> images, int crop, Random rng)
    {
        var data = new float[images.Count * 3 * crop * crop];
        var plane = crop * crop;
        for (var b = 0; b < images.Count; b++)
        {
            var img = Get(images[b]);
            // Images smaller than the crop are mirrored at their borders (never the case for the shipped sets).
            var top = img.Height > crop ? rng.Next(img.Height - crop + 1) : 0;
            var left = img.Width > crop ? rng.Next(img.Width - crop + 1) : 0;
            var flip = rng.Next(2) == 1;
            var o = b * 3 * plane;
            for (var y = 0; y < crop; y++)
            {
                var sy = Mirror(top + y, img.Height);
                for (var x = 0; x < crop; x++)
                {
                    var sx = Mirror(left + (flip ? crop - 1 - x : x), img.Width);
                    var p = (sy * img.Width + sx) * 3;
                    var d = o + y * crop + x;
                    data[d] = img.Pixels[p] / 255f;
                    data[d + plane] = img.Pixels[p + 1] / 255f;
                    data[d + 2 * plane] = img.Pixels[p + 2] / 255f;
                }
            }
        }
        return torch.from_array(data, images.Count, 3, crop, crop);
    }

    private static int Mirror(int i, int n)
    {
        if (n == 1) return 0;
        var period = 2 * n - 2;
        i %= period;
        return i < n ? i : period - i;
    }
}
