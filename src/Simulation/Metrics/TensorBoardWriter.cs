using System.Buffers.Binary;
using CoFUsfl.Actors;
using CoFUsfl.Simulation.Metrics.TensorBoard;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>
/// A TensorBoard event file (<c>events.out.tfevents.{time}.{host}</c>): TFRecord framing, i.e. per record a little-endian
/// uint64 length, the masked CRC-32C of those 8 bytes, the serialized <see cref="Event"/>, and its masked CRC-32C.
/// The first record names the file version. Each session of a run writes its own file (TensorBoard reads them all).
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    private readonly FileStream stream;
    private readonly Func<double> clock;
    public string Path { get; }

    public TensorBoardWriter(string directory, Func<double>? wallTime = null)
    {
        clock = wallTime ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        Directory.CreateDirectory(directory);
        var now = clock();
        var host = System.Net.Dns.GetHostName();
        // Two sessions of a run can start within one second in one process: a suffix keeps their files apart.
        for (var n = 0; ; n++)
        {
            Path = System.IO.Path.Combine(directory, $"events.out.tfevents.{(long)now}.{host}.{Environment.ProcessId}" + (n == 0 ? "" : $".{n}"));
            try
            {
                stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                break;
            }
            catch (IOException) when (File.Exists(Path) && n < 1000) { }
        }
        Write(new Event { WallTime = now, Step = 0, FileVersion = "brain.Event:2" });
    }

    /// <summary>Scalars of one step (a round), in one record.</summary>
    public void Scalars(long step, IEnumerable<(string Tag, double Value)> values)
    {
        var s = new Summary();
        foreach (var (tag, v) in values)
            if (double.IsFinite(v)) s.Value.Add(new Summary.Types.Value { Tag = tag, SimpleValue = (float)v });
        if (s.Value.Count > 0) Write(new Event { WallTime = clock(), Step = step, Summary = s });
    }

    /// <summary>An RGB image (PNG bytes) under <paramref name="tag"/>.</summary>
    public void Image(long step, string tag, int width, int height, byte[] png) =>
        Write(new Event
        {
            WallTime = clock(), Step = step,
            Summary = new Summary { Value = { new Summary.Types.Value { Tag = tag, Image = new Summary.Types.Image { Width = width, Height = height, Colorspace = 3, EncodedImageString = ByteString.CopyFrom(png) } } } },
        });

    private void Write(Event e)
    {
        var data = e.ToByteArray();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
        stream.Flush();
    }

    /// <summary>TFRecord's masked CRC-32C: rotate right by 15, add 0xa282ead8.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C.Compute(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    /// <summary>Reads an event file back, checking every length and CRC (an <see cref="InvalidDataException"/> names the record).</summary>
    public static IReadOnlyList<Event> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        var pos = 0;
        while (pos < bytes.Length)
        {
            if (bytes.Length - pos < 12) throw new InvalidDataException($"{path}: record {events.Count} truncated in its header");
            var span = bytes.AsSpan(pos);
            var length = BinaryPrimitives.ReadUInt64LittleEndian(span);
            if (BinaryPrimitives.ReadUInt32LittleEndian(span[8..]) != MaskedCrc(span[..8])) throw new InvalidDataException($"{path}: record {events.Count}: length CRC mismatch");
            if (length > (ulong)(bytes.Length - pos - 16)) throw new InvalidDataException($"{path}: record {events.Count}: length {length} beyond the file");
            var data = span.Slice(12, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(span[(12 + (int)length)..]) != MaskedCrc(data)) throw new InvalidDataException($"{path}: record {events.Count}: data CRC mismatch");
            events.Add(Event.Parser.ParseFrom(data));
            pos += 16 + (int)length;
        }
        return events;
    }

    public void Dispose() => stream.Dispose();
}
