using System.Buffers.Binary;

namespace CoFUsfl.Actors.Remote.RabbitMq;

/// <summary>
/// Body layout of one AMQP message of the transport: a fixed header, then envelope bytes (whole, or one chunk).
/// The sender's identity (<c>name#incarnation</c>) travels as the AMQP app-id. Little-endian:
/// <code>
/// 0  magic 0xCF | 1 kind (1 whole, 2 chunk) | 2..9 sequence (per sender incarnation, increasing)
/// chunk only: 10..17 transfer id | 18..21 chunk index | 22..25 chunk count | 26..33 total envelope length
/// </code>
/// The sequence lets a receiver drop the duplicates a retry after a broker failure can produce.
/// </summary>
internal static class Wire
{
    public const byte Magic = 0xCF;
    public const byte KindWhole = 1, KindChunk = 2;
    public const int WholeHeader = 10, ChunkHeader = 34;

    /// <summary>A body for a whole envelope, in an array from <paramref name="alloc"/> (default: exact size) that may be longer than the body.</summary>
    public static byte[] Whole(ulong seq, ReadOnlySpan<byte> envelope, Func<int, byte[]>? alloc = null)
    {
        var body = (alloc ?? Exact)(WholeHeader + envelope.Length);
        body[0] = Magic;
        body[1] = KindWhole;
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(2), seq);
        envelope.CopyTo(body.AsSpan(WholeHeader));
        return body;
    }

    /// <summary>A body for one chunk, in an array from <paramref name="alloc"/> (default: exact size) that may be longer than the body.</summary>
    public static byte[] Chunk(ulong seq, ulong transfer, int index, int count, long total, ReadOnlySpan<byte> data, Func<int, byte[]>? alloc = null)
    {
        var body = (alloc ?? Exact)(ChunkHeader + data.Length);
        body[0] = Magic;
        body[1] = KindChunk;
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(10), transfer);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(18), index);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(22), count);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(26), total);
        data.CopyTo(body.AsSpan(ChunkHeader));
        return body;
    }

    private static byte[] Exact(int n) => new byte[n];

    /// <summary>Sequence number of a body (0 when the body is not one of ours).</summary>
    public static ulong SequenceOf(ReadOnlySpan<byte> body) =>
        body.Length >= WholeHeader && body[0] == Magic ? BinaryPrimitives.ReadUInt64LittleEndian(body[2..]) : 0;

    /// <summary>The envelope bytes inside a body, or of its first chunk (for error reports).</summary>
    public static ReadOnlySpan<byte> PayloadOf(ReadOnlySpan<byte> body) =>
        body.Length < WholeHeader || body[0] != Magic ? body
        : body[1] == KindChunk && body.Length >= ChunkHeader ? body[ChunkHeader..] : body[WholeHeader..];
}

/// <summary>
/// Receiving side: drops duplicates, passes whole envelopes through and reassembles chunked ones. One instance per
/// transport; called from the single consumer thread, so it needs no locking. Bad input is reported, never thrown.
/// </summary>
internal sealed class Reassembler(long maxMessageSize)
{
    private sealed class Partial
    {
        public required ulong Transfer;
        public required byte[] Buffer;     // rented: longer than Length
        public required int Length;
        public required int Count;
        public int Next;
        public long Filled;
    }

    private readonly Dictionary<string, ulong> _lastSeq = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Partial> _partial = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _departed = new();

    /// <summary>Duplicates dropped so far (retries after a broker failure).</summary>
    public long Duplicates { get; private set; }

    /// <summary>
    /// Handles one body from <paramref name="sender"/>. Calls <paramref name="deliver"/> with a complete envelope, or
    /// <paramref name="fail"/> with a reason; returns without either for a chunk that is not the last or a duplicate.
    /// </summary>
    public void Accept(string sender, ReadOnlySpan<byte> body, EnvelopeHandler deliver, Action<string> fail)
    {
        while (_departed.TryDequeue(out var gone)) Forget(gone, fail);
        if (body.Length < Wire.WholeHeader || body[0] != Wire.Magic)
        {
            fail($"message of {body.Length} bytes from {sender} is not a transport frame (bad magic or too short)");
            return;
        }
        var seq = BinaryPrimitives.ReadUInt64LittleEndian(body[2..]);
        if (_lastSeq.TryGetValue(sender, out var last) && seq <= last)
        {
            Duplicates++;
            return;
        }
        _lastSeq[sender] = seq;
        switch (body[1])
        {
            case Wire.KindWhole:
                if (_partial.Remove(sender, out var orphan))
                {
                    fail($"transfer {orphan.Transfer} from {sender} lost chunks: {orphan.Next} of {orphan.Count} arrived before a new message");
                    Release(orphan);
                }
                deliver(body[Wire.WholeHeader..]);
                return;
            case Wire.KindChunk:
                AcceptChunk(sender, body, deliver, fail);
                return;
            default:
                fail($"message from {sender} has unknown frame kind {body[1]}");
                return;
        }
    }

    private void AcceptChunk(string sender, ReadOnlySpan<byte> body, EnvelopeHandler deliver, Action<string> fail)
    {
        if (body.Length < Wire.ChunkHeader)
        {
            fail($"chunk from {sender} is {body.Length} bytes, shorter than its header");
            return;
        }
        var transfer = BinaryPrimitives.ReadUInt64LittleEndian(body[10..]);
        var index = BinaryPrimitives.ReadInt32LittleEndian(body[18..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(body[22..]);
        var total = BinaryPrimitives.ReadInt64LittleEndian(body[26..]);
        var data = body[Wire.ChunkHeader..];
        _partial.TryGetValue(sender, out var p);
        if (p is not null && p.Transfer != transfer)
        {
            fail($"transfer {p.Transfer} from {sender} lost chunks: {p.Next} of {p.Count} arrived before transfer {transfer}");
            _partial.Remove(sender);
            Release(p);
            p = null;
        }
        if (p is null)
        {
            if (index != 0)
            {
                fail($"transfer {transfer} from {sender} starts at chunk {index} of {count}: its first chunks were lost");
                return;
            }
            if (total <= 0 || total > maxMessageSize || count <= 0)
            {
                fail($"transfer {transfer} from {sender} announces {total} bytes in {count} chunks; the limit is {maxMessageSize} bytes (cofusfl.cluster.max-message-size)");
                return;
            }
            p = new Partial { Transfer = transfer, Buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)total), Length = (int)total, Count = count };
            _partial[sender] = p;
        }
        if (index != p.Next || count != p.Count || total != p.Length || p.Filled + data.Length > p.Length)
        {
            fail($"transfer {transfer} from {sender}: chunk {index}/{count} of {data.Length} bytes does not follow chunk {p.Next - 1} ({p.Filled} of {p.Length} bytes filled)");
            _partial.Remove(sender);
            Release(p);
            return;
        }
        data.CopyTo(p.Buffer.AsSpan((int)p.Filled));
        p.Filled += data.Length;
        p.Next++;
        if (p.Next < p.Count) return;
        _partial.Remove(sender);
        try
        {
            if (p.Filled != p.Length) fail($"transfer {transfer} from {sender} ended with {p.Filled} of {p.Length} bytes");
            else deliver(p.Buffer.AsSpan(0, p.Length));
        }
        finally { Release(p); }
    }

    private static void Release(Partial p) => System.Buffers.ArrayPool<byte>.Shared.Return(p.Buffer);

    /// <summary>A sender (<c>name#incarnation</c>) left: its state is released before the next message. Any thread.</summary>
    public void Departed(string sender) => _departed.Enqueue(sender);

    private void Forget(string sender, Action<string> fail)
    {
        _lastSeq.Remove(sender);
        if (_partial.Remove(sender, out var p))
        {
            fail($"transfer {p.Transfer} from {sender} abandoned at chunk {p.Next} of {p.Count}: the sender left");
            Release(p);
        }
    }
}

/// <summary>Receives one complete envelope.</summary>
internal delegate void EnvelopeHandler(ReadOnlySpan<byte> envelope);
