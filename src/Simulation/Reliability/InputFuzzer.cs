using System.Text;
using System.Text.Json.Nodes;
using CoFUsfl.Hocon;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Imaging;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Reliability;

/// <summary>
/// One input format under test: valid seed inputs, the parser a user's file goes through, and the exceptions that
/// count as a clear refusal. Anything else thrown (or an allocation above the budget) is a crash.
/// </summary>
public sealed record FuzzTarget(string Name, IReadOnlyList<byte[]> Seeds, Action<byte[]> Parse, Func<Exception, bool> IsRefusal);

/// <param name="Accepted">Mutants the parser took as valid input.</param>
/// <param name="Refused">Mutants refused with the format's own error.</param>
/// <param name="Crashes">Mutants that threw anything else or allocated more than the budget; <see cref="Samples"/> holds the first few.</param>
/// <param name="MaxAllocatedBytes">Most managed bytes one case allocated.</param>
/// <param name="TopRefusals">The most frequent refusal messages (digits blanked so that sizes and positions group) with their counts.</param>
public sealed record FuzzReport(string Target, int Cases, int Accepted, int Refused, int Crashes, long MaxAllocatedBytes, long AllocationBudget,
    IReadOnlyList<string> Samples, IReadOnlyList<(string Message, int Count)> TopRefusals)
{
    public JsonObject ToJson() => new()
    {
        ["target"] = Target, ["cases"] = Cases, ["accepted"] = Accepted, ["refused"] = Refused, ["crashes"] = Crashes,
        ["max_allocated_bytes"] = MaxAllocatedBytes, ["allocation_budget_bytes"] = AllocationBudget,
        ["samples"] = new JsonArray(Samples.Select(s => (JsonNode)s).ToArray()),
        ["top_refusals"] = new JsonArray(TopRefusals.Select(r => (JsonNode)new JsonObject { ["message"] = r.Message, ["count"] = r.Count }).ToArray()),
    };
}

/// <summary>
/// A seeded mutation fuzzer for the files and bytes users and peers hand us (HOCON, PNG, JPEG, .cfu, safetensors):
/// bit flips, byte overwrites with boundary values, truncation, deletion and duplication of slices, and 32-bit
/// length fields set to huge values. Same seed, same cases. Each case's managed allocation is measured on its thread
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>), so "refused cleanly" also means "without allocating gigabytes first".
/// </summary>
public static class InputFuzzer
{
    /// <summary>Default per-case allocation budget: 64 MiB (every seed input is a few KiB).</summary>
    public const long DefaultAllocationBudget = 64L << 20;

    public static FuzzReport Run(FuzzTarget target, int cases, int seed, long allocationBudget = DefaultAllocationBudget)
    {
        if (target.Seeds.Count == 0) throw new ArgumentException($"fuzz target {target.Name}: no seed inputs");
        // A target that refuses its own seeds would pass as "no crash" while testing nothing.
        for (var i = 0; i < target.Seeds.Count; i++)
        {
            try { using (DisposeScope.Open()) target.Parse(target.Seeds[i]); }
            catch (Exception e) { throw new ArgumentException($"fuzz target {target.Name}: seed {i} is not accepted ({e.GetType().Name}: {e.Message})", e); }
        }
        var refusals = new Dictionary<string, int>(StringComparer.Ordinal);
        // Not HashCode.Combine: it is seeded per process, and the same seed must give the same cases in every process.
        var rng = new Random(unchecked(seed * 486187739 + StableHash(target.Name)));
        int accepted = 0, refused = 0, crashes = 0;
        long maxAllocated = 0;
        var samples = new List<string>();
        for (var i = 0; i < cases; i++)
        {
            var input = Mutate(target.Seeds[rng.Next(target.Seeds.Count)], rng);
            var before = GC.GetAllocatedBytesForCurrentThread();
            string? crash = null;
            try
            {
                using (DisposeScope.Open()) target.Parse(input);
                accepted++;
            }
            catch (Exception e) when (target.IsRefusal(e))
            {
                refused++;
                var key = System.Text.RegularExpressions.Regex.Replace(e.Message, "[0-9]+", "#");
                refusals[key] = refusals.GetValueOrDefault(key) + 1;
            }
            catch (Exception e) { crash = $"case {i}: {e.GetType().Name}: {e.Message}"; }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            maxAllocated = Math.Max(maxAllocated, allocated);
            if (crash is null && allocated > allocationBudget) crash = $"case {i}: allocated {allocated} bytes (budget {allocationBudget}) for {input.Length} input bytes";
            if (crash is not null)
            {
                crashes++;
                if (samples.Count < 5) samples.Add(crash);
            }
        }
        var top = refusals.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(3).Select(kv => (kv.Key, kv.Value)).ToList();
        return new FuzzReport(target.Name, cases, accepted, refused, crashes, maxAllocated, allocationBudget, samples, top);
    }

    /// <summary>One to three random mutations of <paramref name="seed"/>.</summary>
    public static byte[] Mutate(byte[] seed, Random rng)
    {
        var b = new List<byte>(seed);
        var n = 1 + rng.Next(3);
        for (var k = 0; k < n; k++)
        {
            if (b.Count == 0) { b.Add((byte)rng.Next(256)); continue; }
            var at = rng.Next(b.Count);
            switch (rng.Next(7))
            {
                case 0: // flip 1-8 bits
                    for (var j = 1 + rng.Next(8); j > 0; j--) b[rng.Next(b.Count)] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1: // a boundary byte
                    b[at] = new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'{', (byte)'"', (byte)'$' }[rng.Next(8)];
                    break;
                case 2: // truncate
                    b.RemoveRange(at, b.Count - at);
                    break;
                case 3: // delete a slice
                    b.RemoveRange(at, Math.Min(b.Count - at, 1 + rng.Next(64)));
                    break;
                case 4: // duplicate a slice
                    var len = Math.Min(b.Count - at, 1 + rng.Next(256));
                    b.InsertRange(rng.Next(b.Count), b.GetRange(at, len));
                    break;
                case 5: // a huge or boundary 32-bit value, either byte order (length fields, sizes)
                {
                    var v = new uint[] { 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x00010000, 0x4000_0000, 0 }[rng.Next(6)];
                    var bytes = BitConverter.GetBytes(v);
                    if (rng.Next(2) == 0) Array.Reverse(bytes);
                    for (var j = 0; j < 4 && at + j < b.Count; j++) b[at + j] = bytes[j];
                    break;
                }
                default: // a random byte
                    b[at] = (byte)rng.Next(256);
                    break;
            }
        }
        return b.ToArray();
    }

    private static int StableHash(string s)
    {
        var h = 17;
        foreach (var c in s) h = unchecked(h * 31 + c);
        return h;
    }

    /// <summary>The shipped targets. Seeds come from the repository (configs) and from inputs built here (images, bitstreams, tensors).</summary>
    /// <param name="hoconSeeds">HOCON texts to mutate (e.g. hocon/quickstart.conf, reference.conf).</param>
    /// <param name="jpegSeeds">JPEG files' bytes (e.g. a few training images); none = no jpeg target.</param>
    public static IReadOnlyList<FuzzTarget> Targets(IReadOnlyList<string> hoconSeeds, IReadOnlyList<byte[]> jpegSeeds)
    {
        var targets = new List<FuzzTarget>
        {
            new("hocon", hoconSeeds.Select(Encoding.UTF8.GetBytes).ToList(),
                b => Config.ParseString(Encoding.UTF8.GetString(b), "fuzz.conf").Resolve(new ResolveOptions { UseEnvironment = false }),
                e => e is HoconException),
            new("png", PngSeeds(), b => PngDecoder.Decode(b, "fuzz.png", 1L << 20), e => e is ImageFormatException),
            // The same with every chunk's CRC made right again, so mutations reach the header, zlib and filter code.
            new("png-crc-fixed", PngSeeds(), b => PngDecoder.Decode(FixPngCrcs(b), "fuzz.png", 1L << 20), e => e is ImageFormatException),
        };
        if (jpegSeeds.Count > 0)
            targets.Add(new("jpeg", jpegSeeds, b => JpegDecoder.Decode(b, "fuzz.jpg", 1L << 22), e => e is ImageFormatException));
        targets.Add(CfuTarget());
        targets.Add(new("safetensors", [SafetensorsSeed()], b =>
        {
            foreach (var t in Safetensors.Deserialize(b).Values) t.Dispose();
        }, e => e is FormatException));
        return targets;
    }

    /// <summary>Recomputes the CRC of every whole chunk (length, type, data, CRC) after the signature.</summary>
    public static byte[] FixPngCrcs(byte[] png)
    {
        var b = (byte[])png.Clone();
        var pos = 8;
        while (pos + 12 <= b.Length)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
            if (length > (uint)(b.Length - pos - 12)) break;
            var crc = Crc32.Compute(b.AsSpan(pos + 4, 4 + (int)length));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(pos + 8 + (int)length), crc);
            pos += 12 + (int)length;
        }
        return b;
    }

    private static Image Pattern(int w, int h, int channels, int seed)
    {
        var rng = new Random(seed);
        var data = new byte[w * h * channels];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                for (var c = 0; c < channels; c++)
                    data[(y * w + x) * channels + c] = (byte)((x * (c + 1) + y * 3 + rng.Next(16)) & 0xFF);
        return Image.FromData(w, h, channels, data);
    }

    private static List<byte[]> PngSeeds() =>
    [
        PngEncoder.Encode(Pattern(24, 16, 3, 1)),
        PngEncoder.Encode(Pattern(17, 9, 4, 2), PngFilter.None),
        PngEncoder.Encode(Pattern(8, 8, 1, 3), PngFilter.Paeth),
    ];

    private static byte[] SafetensorsSeed()
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(5);
        return Safetensors.Serialize(new Dictionary<string, Tensor>
        {
            ["a.weight"] = torch.randn([4, 3], g), ["b"] = torch.from_array(new long[] { 1, 2, 3 }, 3),
        }, new Dictionary<string, string> { ["round"] = "1" });
    }

    /// <summary>.cfu bitstreams of a small untrained hyperprior codec, parsed and decoded as <c>codec decompress</c> does (sizes checked first).</summary>
    private static FuzzTarget CfuTarget()
    {
        using var g = new Generator(7);
        var model = CodecZoo.Create("bmshj2018-hyperprior", 8, 12, g);
        model.eval();
        model.update();
        var seeds = new List<byte[]>();
        using (DisposeScope.Open())
            foreach (var (w, h) in new[] { (64, 64), (128, 64) })
            {
                var img = Pattern(w, h, 3, w);
                var strings = model.compress(torch.from_array(ImageConvert.ToChwFloat(img), 1, 3, h, w));
                seeds.Add(new CompressedImage(model.Name, (int)model.N, (int)model.M, h, w, strings).ToBytes());
            }
        return new FuzzTarget("cfu", seeds, b =>
        {
            var ci = CompressedImage.Parse(b, "fuzz.cfu");
            if (ci.Model != model.Name || ci.N != model.N || ci.M != model.M) throw new InvalidDataException("fuzz.cfu: another model");
            if (!model.LatentFits(ci.Height, ci.Width, ci.Strings.LatentHeight, ci.Strings.LatentWidth)) throw new InvalidDataException("fuzz.cfu: latent size does not fit");
            if ((long)ci.Height * ci.Width > 1 << 16) throw new InvalidDataException("fuzz.cfu: above the pixel budget");
            model.decompress(ci.Strings);
        }, e => e is InvalidDataException);
    }
}
