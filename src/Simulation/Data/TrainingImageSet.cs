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

    /// <summary>
    /// The binary CIFAR-10 or CIFAR-100 format (as distributed, e.g. <c>cifar-10-batches-bin/data_batch_1.bin</c>):
    /// records of 1 label byte (CIFAR-100: coarse, then fine label byte) and 3072 pixel bytes, the red, green and blue
    /// 32×32 planes in turn. One domain per class (CIFAR-100: the 100 fine labels), so the class is the label the joint
    /// classification learns. Every file is read up front; a length that is not whole records or a label out of range
    /// is an error naming the file and the record.
    /// </summary>
    public static TrainingImageSet LoadCifar(string root, IReadOnlyList<string> files, Configuration.DataFormat format)
    {
        if (format is not (Configuration.DataFormat.Cifar10 or Configuration.DataFormat.Cifar100)) throw new ArgumentException($"{format} is not a CIFAR format");
        var (labelBytes, classes, name) = format == Configuration.DataFormat.Cifar10 ? (1, 10, "CIFAR-10") : (2, 100, "CIFAR-100");
        var record = labelBytes + 3072;
        var set = new TrainingImageSet();
        var byClass = Enumerable.Range(0, classes).Select(_ => new List<int>()).ToArray();
        foreach (var f in files)
        {
            var path = Path.IsPathRooted(f) ? f : Path.Combine(root, f);
            if (!File.Exists(path)) throw new FileNotFoundException($"{name} file '{f}' not found at {Path.GetFullPath(path)} (cofusfl.data.root = {root})");
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % record != 0)
                throw new InvalidDataException($"{Path.GetFullPath(path)}: {bytes.Length} bytes is not a whole number of {name} records ({labelBytes} label byte{(labelBytes > 1 ? "s" : "")} + 3072 pixel bytes each)");
            for (var r = 0; r < bytes.Length / record; r++)
            {
                var at = r * record;
                int label = bytes[at + labelBytes - 1];
                if (label >= classes) throw new InvalidDataException($"{Path.GetFullPath(path)}: record {r} has label {label}; {name} has {classes} classes");
                var pixels = new byte[3072];
                for (var i = 0; i < 1024; i++)
                    for (var c = 0; c < 3; c++) pixels[i * 3 + c] = bytes[at + labelBytes + c * 1024 + i];
                var index = set.files.Count;
                set.files.Add($"{Path.GetFileName(path)}#{r}");
                set.cache[index] = new Rgb8(32, 32, pixels);
                byClass[label].Add(index);
            }
        }
        set.domains.AddRange(byClass.Select(l => l.ToArray()));
        return set;
    }

    /// <summary>The training images <paramref name="data"/> names: folders, or CIFAR binary files.</summary>
    public static TrainingImageSet Load(Configuration.DataOptions data) => data.Format == Configuration.DataFormat.Folders
        ? Load(data.Root, data.Train)
        : LoadCifar(data.Root, data.Train, data.Format);

    public (string Name, float[] Chw, int Height, int Width) Image(int index)
    {
        var img = Get(index);
        var plane = img.Width * img.Height;
        var chw = new float[3 * plane];
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++) chw[c * plane + i] = img.Pixels[i * 3 + c] / 255f;
        return (Path.GetFileName(files[index]), chw, img.Height, img.Width);
    }

    private Rgb8 Get(int index) => cache.GetOrAdd(index, i => ImageBridge.LoadRgb8(files[i])); // CIFAR images are all cached

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
