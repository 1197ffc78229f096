using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Data;

/// <summary>
/// The PNG/JPEG files under one or more folders (recursively, by extension, case-insensitive), in ordinal path order
/// so that every run and every machine sees the same indexes. Decoded images can be kept in a bounded LRU cache
/// shared by <see cref="Subset"/> views. Thread-safe.
/// </summary>
public sealed class ImageFolderDataset
{
    private readonly string[] _paths;
    private readonly ImageCache _cache;

    /// <summary>Scans <paramref name="roots"/>.</summary>
    /// <param name="roots">Folders to scan (recursively); a root may also be a single image file.</param>
    /// <param name="maxCacheBytes">Decoded-sample budget of the cache; 0 disables caching.</param>
    /// <exception cref="DirectoryNotFoundException">A root does not exist (named).</exception>
    /// <exception cref="InvalidDataException">A root holds no PNG/JPEG file (named), or no roots were given.</exception>
    public ImageFolderDataset(IEnumerable<string> roots, long maxCacheBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(roots);
        if (maxCacheBytes < 0) throw new ArgumentOutOfRangeException(nameof(maxCacheBytes), maxCacheBytes, "cache budget must be ≥ 0");
        var all = new List<string>();
        var rootList = roots.ToList();
        if (rootList.Count == 0) throw new InvalidDataException("image dataset: no folders given");
        foreach (var root in rootList)
        {
            var full = Path.GetFullPath(root);
            if (File.Exists(full) && ImageIO.Extensions.Contains(Path.GetExtension(full)))
            {
                all.Add(full);
                continue;
            }
            if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"image dataset: folder '{root}' does not exist");
            var found = Directory.EnumerateFiles(full, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
                .Where(p => ImageIO.Extensions.Contains(Path.GetExtension(p)))
                .ToList();
            if (found.Count == 0) throw new InvalidDataException($"image dataset: folder '{root}' holds no .png/.jpg/.jpeg files");
            all.AddRange(found);
        }
        _paths = all.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        _cache = new ImageCache(maxCacheBytes);
    }

    private ImageFolderDataset(string[] paths, ImageCache cache)
    {
        _paths = paths;
        _cache = cache;
    }

    /// <summary>Number of images.</summary>
    public int Count => _paths.Length;

    /// <summary>Full paths, in index order (ordinal sort).</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>A view of the images at <paramref name="indexes"/> (in that order), sharing this dataset's cache — e.g. one client's shard.</summary>
    public ImageFolderDataset Subset(IEnumerable<int> indexes)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        var picked = indexes.Select(i => (uint)i < (uint)_paths.Length
            ? _paths[i]
            : throw new ArgumentOutOfRangeException(nameof(indexes), i, $"index outside the dataset (0..{_paths.Length - 1})")).ToArray();
        if (picked.Length == 0) throw new ArgumentException("a subset needs at least one image", nameof(indexes));
        return new ImageFolderDataset(picked, _cache);
    }

    /// <summary>Decodes image <paramref name="index"/> (or returns the cached decode). Callers must not modify it.</summary>
    /// <exception cref="ImageFormatException">The file is corrupt; the message names it.</exception>
    public Image Load(int index)
    {
        if ((uint)index >= (uint)_paths.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index outside the dataset (0..{_paths.Length - 1})");
        var path = _paths[index];
        return _cache.GetOrAdd(path, static p => ImageIO.Read(p));
    }

    /// <summary>Image <paramref name="index"/> as RGB float CHW in [0, 1].</summary>
    public float[] LoadChw(int index, out int height, out int width)
    {
        var img = Load(index);
        (height, width) = (img.Height, img.Width);
        return ImageConvert.ToChwFloat(img);
    }

    /// <summary>
    /// Image <paramref name="index"/> for evaluation: RGB float CHW in [0, 1], padded to a multiple of
    /// <paramref name="multiple"/> (centred, as CompressAI's <c>pad</c>); crop the reconstruction back with
    /// <see cref="Padding.Crop"/>.
    /// </summary>
    public PaddedImage LoadForEval(int index, int multiple = 64, PadMode mode = PadMode.Zero)
    {
        var chw = LoadChw(index, out var h, out var w);
        return Padding.PadToMultiple(chw, 3, h, w, multiple, mode);
    }

    /// <summary>Number of decoded images currently cached (shared with subsets).</summary>
    public int CachedImages => _cache.Count;

    /// <summary>Bytes of decoded samples currently cached.</summary>
    public long CachedBytes => _cache.Bytes;

    /// <summary>Bounded LRU of decoded images, by path.</summary>
    private sealed class ImageCache(long maxBytes)
    {
        private readonly Dictionary<string, LinkedListNode<(string Path, Image Image, long Bytes)>> _map = new(StringComparer.Ordinal);
        private readonly LinkedList<(string Path, Image Image, long Bytes)> _lru = new();
        private readonly Lock _lock = new();
        private long _bytes;

        public int Count { get { lock (_lock) return _map.Count; } }
        public long Bytes { get { lock (_lock) return _bytes; } }

        public Image GetOrAdd(string path, Func<string, Image> load)
        {
            if (maxBytes == 0) return load(path);
            lock (_lock)
            {
                if (_map.TryGetValue(path, out var node))
                {
                    _lru.Remove(node);
                    _lru.AddFirst(node);
                    return node.Value.Image;
                }
            }
            var img = load(path); // decode outside the lock; a racing duplicate decode is harmless
            var size = (long)img.Width * img.Height * img.Channels * (img.BitDepth / 8);
            if (size > maxBytes) return img;
            lock (_lock)
            {
                if (_map.TryGetValue(path, out var existing)) return existing.Value.Image;
                while (_bytes + size > maxBytes && _lru.Last is { } last)
                {
                    _lru.RemoveLast();
                    _map.Remove(last.Value.Path);
                    _bytes -= last.Value.Bytes;
                }
                _map[path] = _lru.AddFirst((path, img, size));
                _bytes += size;
            }
            return img;
        }
    }
}
