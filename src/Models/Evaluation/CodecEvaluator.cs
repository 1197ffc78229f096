using System.Diagnostics;
using System.Text.Json.Nodes;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Torch;

namespace CoFUsfl.Models.Evaluation;

/// <summary>One image coded through real bitstreams.</summary>
public sealed record ImageResult(string Name, int Width, int Height, long Bytes, double Bpp, double EstimatedBpp, double Psnr, double MsSsim, double EncodeMs, double DecodeMs);

/// <summary>Per-image results and their means.</summary>
public sealed record EvalSummary(string Dataset, IReadOnlyList<ImageResult> Images)
{
    public double Psnr => Images.Average(i => i.Psnr);
    public double MsSsim => Images.Average(i => i.MsSsim);
    public double Bpp => Images.Average(i => i.Bpp);
    public double EstimatedBpp => Images.Average(i => i.EstimatedBpp);

    public JsonObject ToJson(bool includeImages = true)
    {
        var o = new JsonObject
        {
            ["dataset"] = Dataset, ["images"] = Images.Count, ["psnr"] = Psnr, ["ms_ssim"] = MsSsim, ["bpp"] = Bpp,
            ["bpp_estimated"] = EstimatedBpp,
            ["encode_ms"] = Images.Average(i => i.EncodeMs), ["decode_ms"] = Images.Average(i => i.DecodeMs),
        };
        if (includeImages)
            o["per_image"] = new JsonArray(Images.Select(i => (JsonNode)new JsonObject
            {
                ["name"] = i.Name, ["width"] = i.Width, ["height"] = i.Height, ["bytes"] = i.Bytes, ["bpp"] = i.Bpp,
                ["bpp_estimated"] = i.EstimatedBpp, ["psnr"] = i.Psnr, ["ms_ssim"] = i.MsSsim, ["encode_ms"] = i.EncodeMs, ["decode_ms"] = i.DecodeMs,
            }).ToArray());
        return o;
    }
}

/// <summary>
/// Codes every image of a folder through <c>compress</c> → <c>.cfu</c> bytes → <c>decompress</c>, and measures PSNR
/// (8-bit RGB), MS-SSIM and bpp from the bytes written, next to the model's estimated bpp.
/// </summary>
public sealed class CodecEvaluator(string folder)
{
    public string Folder { get; } = folder;

    /// <param name="decoded">Called with the decoded 8-bit image of each of the first <paramref name="keep"/> images.</param>
    public EvalSummary Evaluate(CompressionModel model, int limit = 0, Action<ImageResult, Imaging.Image>? decoded = null, int keep = 0)
    {
        var files = ImageBridge.List(Folder);
        if (limit > 0) files = files.Take(limit).ToList();
        var results = files.Select((f, i) => EvaluateImage(model, f, i < keep ? decoded : null)).ToList();
        return new EvalSummary(Path.GetFileName(Folder.TrimEnd('/')), results);
    }

    public static ImageResult EvaluateImage(CompressionModel model, string path, Action<ImageResult, Imaging.Image>? decodedImage = null)
    {
        var (chw, h, w) = ImageBridge.LoadChw(path);
        return EvaluateImage(model, path, chw, h, w, decodedImage);
    }

    /// <summary>One image given as float CHW pixels in [0, 1] (<paramref name="name"/>: its file, for messages and results).</summary>
    public static ImageResult EvaluateImage(CompressionModel model, string name, float[] chw, int h, int w, Action<ImageResult, Imaging.Image>? decodedImage = null)
    {
        var path = name;
        var padded = Data.Padding.PadToMultiple(chw, 3, h, w, model.DownsamplingFactor);
        using var scope = DisposeScope.Open();
        using var ng = torch.no_grad();
        var device = model.named_parameters().First().parameter.device;
        var xp = torch.from_array(padded.Data, 1, 3, padded.Height, padded.Width).to(device);
        var t0 = Stopwatch.GetTimestamp();
        var strings = model.compress(xp);
        var bytes = new CompressedImage(model.Name, (int)model.N, (int)model.M, h, w, strings).ToBytes();
        var encodeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        var parsed = CompressedImage.Parse(bytes, path);
        var xHat = Data.Padding.Crop(model.decompress(parsed.Strings).cpu().contiguous().data<float>(), padded);
        var decodeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        var pixels = (double)h * w;
        var forward = model.forward(xp);
        var estBits = forward.Likelihoods.Values.Sum(l => -l.log2().sum().item());
        // Metrics on the 8-bit images a user would see: both sides rounded to 8-bit RGB.
        var original = Imaging.ImageConvert.FromChwFloat(chw, h, w);
        var decoded = Imaging.ImageConvert.FromChwFloat(xHat, h, w);
        var psnr = Metrics.Psnr.Compute(original, decoded);
        var msssim = Metrics.MsSsim.Compute(original, decoded);
        var result = new ImageResult(Path.GetFileName(path), w, h, bytes.Length, 8.0 * bytes.Length / pixels, estBits / pixels, psnr, msssim, encodeMs, decodeMs);
        decodedImage?.Invoke(result, decoded);
        return result;
    }
}
