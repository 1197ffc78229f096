using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CoFUsfl.Torch;

/// <summary>
/// The safetensors format (what PyTorch users read with <c>safetensors.torch.load_file</c>): an 8-byte
/// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {…}}, raw data.
/// Files written here carry the SHA-256 of their data section in the metadata (<see cref="ContentHashKey"/>); a file
/// that has one is refused on load when its data no longer matches it (a flipped bit, a truncated copy).
/// </summary>
public static class Safetensors
{
    /// <summary>Metadata key of the data section's SHA-256 (lower-case hex). Other readers ignore it.</summary>
    public const string ContentHashKey = "content_sha256";

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var tmp = path + ".tmp";
        using (var fs = File.Create(tmp)) Write(fs, tensors, metadata);
        File.Move(tmp, path, overwrite: true); // a crash mid-write never leaves a half checkpoint
    }

    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Write(ms, tensors, metadata);
        return ms.ToArray();
    }

    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        var blobs = new List<byte[]>(names.Count);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var name in names)
        {
            var t = tensors[name];
            var bytes = new byte[t.numel() * t.dtype.ElementSize()];
            t.CopyTo<byte>(bytes);
            blobs.Add(bytes);
            sha.AppendData(bytes);
        }
        var m = new JsonObject();
        foreach (var (k, v) in (metadata ?? new Dictionary<string, string>()).Where(kv => kv.Key != ContentHashKey).OrderBy(kv => kv.Key, StringComparer.Ordinal)) m[k] = v;
        m[ContentHashKey] = Convert.ToHexStringLower(sha.GetHashAndReset());
        header["__metadata__"] = m;
        long offset = 0;
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            var t = tensors[name];
            var bytes = blobs[i];
            header[name] = new JsonObject
            {
                ["dtype"] = t.dtype.SafetensorsName(),
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8; // data starts 8-byte aligned, as the reference writer does
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        stream.Write(len);
        stream.Write(json);
        for (var i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var b in blobs) stream.Write(b);
    }

    /// <summary>Reads every tensor (CPU). Malformed files raise <see cref="FormatException"/> naming the file and the problem.</summary>
    public static Dictionary<string, Tensor> Load(string path, Dictionary<string, string>? metadata = null)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new FormatException($"{path}: cannot read: {e.Message}", e); }
        try { return Deserialize(bytes, metadata); }
        catch (FormatException e) { throw new FormatException($"{path}: {e.Message}", e); }
    }

    public static Dictionary<string, Tensor> Deserialize(ReadOnlySpan<byte> bytes, Dictionary<string, string>? metadata = null)
    {
        if (bytes.Length < 8) throw new FormatException("not a safetensors file (shorter than its 8-byte header length)");
        var headerLen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLen > (ulong)(bytes.Length - 8)) throw new FormatException($"header length {headerLen} exceeds the file ({bytes.Length} bytes): truncated or not safetensors");
        JsonObject header;
        try { header = JsonNode.Parse(bytes.Slice(8, (int)headerLen)) as JsonObject ?? throw new FormatException("header is not a JSON object"); }
        catch (JsonException e) { throw new FormatException($"header is not valid JSON: {e.Message}"); }
        var data = bytes[(8 + (int)headerLen)..];
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        string? expected = null;
        long dataEnd = 0;
        try
        {
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__")
                {
                    if (node is JsonObject mo)
                        foreach (var (k, v) in mo)
                        {
                            if (k == ContentHashKey) expected = v?.GetValue<string>();
                            else if (metadata is not null) metadata[k] = v?.GetValue<string>() ?? "";
                        }
                    continue;
                }
                if (node is not JsonObject o) throw new FormatException($"entry '{name}' is not an object");
                var dtype = ScalarTypes.FromSafetensorsName(o["dtype"]?.GetValue<string>() ?? throw new FormatException($"'{name}' has no dtype"));
                var shape = (o["shape"] as JsonArray ?? throw new FormatException($"'{name}' has no shape")).Select(s => s!.GetValue<long>()).ToArray();
                var offs = o["data_offsets"] as JsonArray ?? throw new FormatException($"'{name}' has no data_offsets");
                long begin = offs[0]!.GetValue<long>(), end = offs[1]!.GetValue<long>();
                var count = shape.Aggregate(1L, (a, b) => a * b);
                if (begin < 0 || end < begin || end > data.Length)
                    throw new FormatException($"'{name}' data_offsets [{begin}, {end}] outside the data ({data.Length} bytes)");
                if (end - begin != count * dtype.ElementSize())
                    throw new FormatException($"'{name}' has {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {count * dtype.ElementSize()}");
                result[name] = torch.from_bytes(data[(int)begin..(int)end], shape, dtype).DetachFromDisposeScope();
                dataEnd = Math.Max(dataEnd, end);
            }
            if (expected is not null)
            {
                var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data[..(int)dataEnd]));
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                    throw new FormatException($"content hash mismatch (metadata {ContentHashKey} {expected}, data {actual}): the file was altered or damaged after it was written");
            }
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or NullReferenceException or FormatException or ArgumentException)
        {
            // Free what was read before the bad entry, then report it.
            foreach (var t in result.Values) t.Dispose();
            if (e is FormatException) throw;
            throw new FormatException($"malformed header: {e.Message}");
        }
        return result;
    }
}
