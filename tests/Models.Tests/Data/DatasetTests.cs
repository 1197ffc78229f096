using CoFUsfl.Models.Data;
using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Tests.Data;

public sealed class DatasetTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Pixel (x, y) of test image k: R = x, G = y, B = k (so a crop's origin can be read off its values).</summary>
    private string WriteImage(string relative, int width, int height, int k)
    {
        var img = new Image(width, height, 3);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                img[x, y, 0] = x;
                img[x, y, 1] = y;
                img[x, y, 2] = k;
            }
        var path = Path.Combine(_dir, relative);
        ImageIO.WritePng(path, img);
        return path;
    }

    [Fact]
    public void Kodak_folder_lists_24_pngs_in_ordinal_order()
    {
        var ds = new ImageFolderDataset([TestPaths.Kodak]);
        ds.Count.Should().Be(24);
        ds.Paths.Select(Path.GetFileName).Should().Equal(Enumerable.Range(1, 24).Select(i => $"kodim{i:00}.png"));
        ds.Paths.Should().BeInAscendingOrder(StringComparer.Ordinal);
    }

    [Fact]
    public void Scans_recursively_by_extension_and_merges_roots()
    {
        WriteImage("b/deep/z.png", 4, 4, 0);
        WriteImage("a/y.PNG", 4, 4, 1);
        File.Copy(Path.Combine(TestPaths.Datasets, "bsds500", "test", "100007.jpg"), Path.Combine(_dir, "a", "x.jpg"));
        File.WriteAllText(Path.Combine(_dir, "a", "notes.txt"), "not an image");
        var ds = new ImageFolderDataset([Path.Combine(_dir, "b"), Path.Combine(_dir, "a"), Path.Combine(_dir, "a")]);
        ds.Paths.Select(Path.GetFileName).Should().Equal("x.jpg", "y.PNG", "z.png");
        ds.Load(0).Channels.Should().Be(3);
    }

    [Fact]
    public void Missing_or_empty_folders_are_named()
    {
        var missing = Path.Combine(_dir, "nope");
        FluentActions.Invoking(() => new ImageFolderDataset([missing])).Should().Throw<DirectoryNotFoundException>().WithMessage($"*{missing}*");
        var empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        FluentActions.Invoking(() => new ImageFolderDataset([empty])).Should().Throw<InvalidDataException>().WithMessage($"*{empty}*no .png*");
    }

    [Fact]
    public void Cache_is_bounded_and_shared_with_subsets()
    {
        for (var k = 0; k < 4; k++) WriteImage($"i{k}.png", 10, 10, k); // 300 bytes each
        var ds = new ImageFolderDataset([_dir], maxCacheBytes: 700);
        ds.Load(0).Should().BeSameAs(ds.Load(0));
        ds.Load(1);
        ds.Load(2);
        ds.CachedImages.Should().Be(2);
        ds.CachedBytes.Should().BeLessThanOrEqualTo(700);
        var sub = ds.Subset([2, 3]);
        sub.Count.Should().Be(2);
        sub.Load(0).Should().BeSameAs(ds.Load(2), "subsets share the decoded cache");
        new ImageFolderDataset([_dir]).CachedImages.Should().Be(0);
    }

    [Fact]
    public void Crops_hold_the_source_pixels_and_flips_mirror_them()
    {
        WriteImage("big.png", 40, 30, 7);
        var ds = new ImageFolderDataset([_dir]);
        var sampler = new RandomCropSampler(ds, new CropOptions(8, 12));
        var batch = sampler.NextBatch(16, new Random(1));
        batch.Data.Should().HaveCount(16 * 3 * 8 * 12);
        batch.Crops.Select(c => c.Flipped).Should().Contain(true).And.Contain(false);
        for (var b = 0; b < 16; b++)
        {
            var c = batch.Crops[b];
            var o = b * 3 * 96;
            for (var y = 0; y < 8; y++)
                for (var x = 0; x < 12; x++)
                {
                    var sx = c.Flipped ? c.X + 11 - x : c.X + x;
                    batch.Data[o + y * 12 + x].Should().Be(sx / 255f);
                    batch.Data[o + 96 + y * 12 + x].Should().Be((c.Y + y) / 255f);
                    batch.Data[o + 192 + y * 12 + x].Should().Be(7 / 255f);
                }
        }
    }

    [Fact]
    public void Same_seed_same_batches_and_each_epoch_visits_every_image_once()
    {
        for (var k = 0; k < 5; k++) WriteImage($"i{k}.png", 20, 20, k);
        var ds = new ImageFolderDataset([_dir]);
        var a = new RandomCropSampler(ds, new CropOptions(8, 8)).NextBatch(10, new Random(5));
        var b = new RandomCropSampler(ds, new CropOptions(8, 8)).NextBatch(10, new Random(5));
        a.Data.Should().Equal(b.Data);
        a.Crops.Should().Equal(b.Crops);
        a.Crops.Take(5).Select(c => c.ImageIndex).Should().BeEquivalentTo([0, 1, 2, 3, 4]);
        a.Crops.Skip(5).Select(c => c.ImageIndex).Should().BeEquivalentTo([0, 1, 2, 3, 4]);
        a.Epoch.Should().Be(1);
    }

    [Fact]
    public void Small_images_are_mirrored_or_skipped()
    {
        WriteImage("tiny.png", 3, 2, 1);
        var ds = new ImageFolderDataset([_dir]);
        var batch = new RandomCropSampler(ds, new CropOptions(4, 5, HorizontalFlip: false)).NextBatch(1, new Random(0));
        // Width 3 → 5: start −1 → columns 1 0 1 2 1; height 2 → 4: start −1 → rows 1 0 1 0.
        batch.Data.Take(5).Should().Equal(new[] { 1, 0, 1, 2, 1 }.Select(v => v / 255f));
        Enumerable.Range(0, 4).Select(y => batch.Data[20 + y * 5]).Should().Equal(new[] { 1, 0, 1, 0 }.Select(v => v / 255f));

        WriteImage("big.png", 10, 10, 2);
        var both = new ImageFolderDataset([_dir]);
        var skip = new RandomCropSampler(both, new CropOptions(4, 5, SmallImages: SmallImagePolicy.Skip)).NextBatch(6, new Random(0));
        skip.Crops.Should().OnlyContain(c => both.Paths[c.ImageIndex].EndsWith("big.png"));
        var onlyTiny = new RandomCropSampler(ds, new CropOptions(4, 5, SmallImages: SmallImagePolicy.Skip));
        FluentActions.Invoking(() => onlyTiny.NextBatch(1, new Random(0))).Should().Throw<InvalidOperationException>().WithMessage("*at least 5x4*");
    }

    [Fact]
    public void Mirroring_matches_numpy_reflect_at_any_distance()
    {
        // Width 4 into a 14-wide crop: centred start −5, so the row shows reflect(−5 … 8) = numpy.pad(…, 5, "reflect").
        var img = new Image(4, 1, 1);
        for (var x = 0; x < 4; x++) img[x, 0, 0] = x;
        ImageIO.WritePng(Path.Combine(_dir, "r.png"), img);
        var crop = new RandomCropSampler(new ImageFolderDataset([_dir]), new CropOptions(1, 14, HorizontalFlip: false)).NextBatch(1, new Random(0));
        crop.Data.Take(14).Select(v => (int)Math.Round(v * 255)).Should().Equal(1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2);
    }
}
