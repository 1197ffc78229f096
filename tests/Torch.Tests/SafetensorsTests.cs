using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Torch.Tests;

public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("cofusfl-torch-tests-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}

public class SafetensorsTests : IDisposable
{
    private readonly TempDir dir = new();
    public void Dispose() => dir.Dispose();

    private static Dictionary<string, Tensor> Sample()
    {
        using var g = new Generator(9);
        return new Dictionary<string, Tensor>
        {
            ["f32"] = torch.randn([2, 3], g).DetachFromDisposeScope(),
            ["f64"] = torch.randn([4], g, ScalarType.Float64).DetachFromDisposeScope(),
            ["f16"] = torch.randn([3, 1], g).to(ScalarType.Float16).DetachFromDisposeScope(),
            ["i64"] = torch.from_array(new long[] { long.MinValue, -1, 0, long.MaxValue }, 2, 2).DetachFromDisposeScope(),
            ["u8"] = torch.from_array(new byte[] { 0, 1, 254, 255, 7 }, 5).DetachFromDisposeScope(),
            ["scalar"] = torch.scalar(3.25, ScalarType.Float64).DetachFromDisposeScope(),
            ["empty"] = torch.zeros([0, 4]).DetachFromDisposeScope(),
        };
    }

    [Fact]
    public void Save_then_load_returns_equal_tensors_of_every_dtype_including_scalars_and_empty_ones()
    {
        var src = Sample();
        var path = dir.File("all.safetensors");
        Safetensors.Save(path, src, new Dictionary<string, string> { ["format"] = "pt", ["round"] = "3" });
        var meta = new Dictionary<string, string>();
        var back = Safetensors.Load(path, meta);
        back.Keys.Should().BeEquivalentTo(src.Keys);
        foreach (var (k, t) in src)
        {
            back[k].dtype.Should().Be(t.dtype, k);
            back[k].shape.Should().Equal(t.shape, k);
            back[k].equal(t).Should().BeTrue(k);
        }
        back["scalar"].dim().Should().Be(0);
        back["scalar"].item().Should().Be(3.25);
        back["empty"].numel().Should().Be(0);
        meta.Should().Equal(new Dictionary<string, string> { ["format"] = "pt", ["round"] = "3" });
        foreach (var t in src.Values.Concat(back.Values)) t.Dispose();
        File.Exists(path + ".tmp").Should().BeFalse();
    }

    [Fact]
    public void The_file_layout_follows_the_safetensors_spec()
    {
        var src = Sample();
        var bytes = Safetensors.Serialize(src);
        var n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        (n % 8).Should().Be(0, "the header is padded so the data starts 8-byte aligned");
        var json = Encoding.UTF8.GetString(bytes, 8, (int)n);
        json.TrimEnd(' ').Length.Should().BeGreaterThan(0);
        json.Should().MatchRegex("^\\{.*\\} *$", "padding is trailing spaces after the JSON object");
        using var doc = JsonDocument.Parse(json);
        long expectedBegin = 0;
        foreach (var e in doc.RootElement.EnumerateObject().Where(e => e.Name != "__metadata__").OrderBy(e => e.Value.GetProperty("data_offsets")[0].GetInt64()))
        {
            var offs = e.Value.GetProperty("data_offsets");
            var begin = offs[0].GetInt64();
            var end = offs[1].GetInt64();
            begin.Should().Be(expectedBegin, $"{e.Name} follows the previous tensor without a gap");
            var t = src[e.Name];
            (end - begin).Should().Be(t.numel() * t.dtype.ElementSize());
            e.Value.GetProperty("dtype").GetString().Should().Be(t.dtype.SafetensorsName());
            e.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).Should().Equal(t.shape);
            expectedBegin = end;
        }
        bytes.LongLength.Should().Be(8 + n + expectedBegin, "the data buffer is exactly the tensors, nothing after");
        // The payload is raw little-endian: f64 bytes at its offset are the doubles themselves.
        var f64 = doc.RootElement.GetProperty("f64").GetProperty("data_offsets")[0].GetInt64();
        BitConverter.ToDouble(bytes, (int)(8 + n + f64)).Should().Be(src["f64"].data<double>()[0]);
        foreach (var t in src.Values) t.Dispose();
    }

    [Fact]
    public void A_checkpoint_with_a_wrongly_shaped_tensor_fails_to_load_into_a_model_naming_the_key()
    {
        using var m = new TinyCodec(n: 4);
        using var other = new TinyCodec(n: 6);
        var path = dir.File("n6.safetensors");
        Safetensors.Save(path, other.state_dict());
        var loaded = Safetensors.Load(path);
        var act = () => m.load_state_dict(loaded);
        act.Should().Throw<StateDictException>().WithMessage("*size mismatch for *[6*[4*");
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void A_model_saved_and_loaded_through_safetensors_has_identical_parameters()
    {
        using var g1 = new Generator(1);
        using var g2 = new Generator(2);
        using var a = new TinyCodec(g1);
        using var b = new TinyCodec(g2);
        var path = dir.File("model.safetensors");
        Safetensors.Save(path, a.state_dict());
        var loaded = Safetensors.Load(path);
        b.load_state_dict(loaded);
        foreach (var (name, p) in a.named_parameters()) b.state_dict()[name].equal(p).Should().BeTrue(name);
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void A_truncated_file_is_a_FormatException_naming_the_file()
    {
        var path = dir.File("truncated.safetensors");
        var bytes = Safetensors.Serialize(Sample());
        File.WriteAllBytes(path, bytes[..(bytes.Length - 5)]);
        var act = () => Safetensors.Load(path);
        act.Should().Throw<FormatException>().Where(e => e.Message.Contains(path) && e.Message.Contains("outside the data"));

        File.WriteAllBytes(path, bytes[..20]);
        act.Should().Throw<FormatException>().Where(e => e.Message.Contains(path) && e.Message.Contains("truncated"));
        File.WriteAllBytes(path, bytes[..4]);
        act.Should().Throw<FormatException>().Where(e => e.Message.Contains(path));
    }

    [Fact]
    public void A_flipped_data_byte_is_refused_by_the_content_hash_and_other_writers_files_still_load()
    {
        var path = dir.File("flipped.safetensors");
        var bytes = Safetensors.Serialize(Sample());
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Encoding.UTF8.GetString(bytes, 8, n).Should().Contain($"\"{Safetensors.ContentHashKey}\"");
        bytes[8 + n + 3] ^= 0x10; // inside f16/f32 data: every tensor still has the right size
        File.WriteAllBytes(path, bytes);
        FluentActions.Invoking(() => Safetensors.Load(path)).Should().Throw<FormatException>()
            .Where(e => e.Message.StartsWith(path) && e.Message.Contains("content hash mismatch"));

        // A file without the key (PyTorch's writer, or an older CoFUsfl) is read as before.
        var h = Encoding.UTF8.GetBytes("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}");
        var plain = new byte[8 + h.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(plain, (ulong)h.Length);
        h.CopyTo(plain, 8);
        BitConverter.GetBytes(2.5f).CopyTo(plain, 8 + h.Length);
        File.WriteAllBytes(path, plain);
        var t = Safetensors.Load(path);
        t["a"].item().Should().Be(2.5);
        t["a"].Dispose();
    }

    [Fact]
    public void A_garbage_file_is_a_FormatException_naming_the_file()
    {
        var path = dir.File("garbage.safetensors");
        var rng = new Random(4);
        var junk = new byte[4096];
        rng.NextBytes(junk);
        File.WriteAllBytes(path, junk);
        var act = () => Safetensors.Load(path);
        act.Should().Throw<FormatException>().WithMessage($"{path}*");

        // A plausible header length followed by non-JSON bytes.
        BinaryPrimitives.WriteUInt64LittleEndian(junk, 100);
        File.WriteAllBytes(path, junk);
        act.Should().Throw<FormatException>().WithMessage($"{path}*");
    }

    [Theory]
    [InlineData("[1, 2, 3]", "not a JSON object")]
    [InlineData("{\"a\": 5}", "'a' is not an object")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", "'a' has 4 bytes")]
    [InlineData("{\"a\": {\"dtype\": \"Q7\", \"shape\": [1], \"data_offsets\": [0, 4]}}", "unsupported safetensors dtype 'Q7'")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", "'a' has no data_offsets")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [\"x\"], \"data_offsets\": [0, 4]}}", "malformed header")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", "malformed header")]
    public void A_malformed_header_is_a_FormatException_that_says_what_is_wrong(string header, string expected)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        var path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var act = () => Safetensors.Load(path);
        act.Should().Throw<FormatException>().Where(e => e.Message.StartsWith(path) && e.Message.Contains(expected));
    }

    [Fact]
    public void A_missing_file_is_a_FormatException_naming_it()
    {
        var path = dir.File("nope.safetensors");
        var act = () => Safetensors.Load(path);
        act.Should().Throw<FormatException>().WithMessage($"{path}: cannot read*");
    }
}
