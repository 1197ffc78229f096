using System.Text;
using System.Text.Json;

namespace CoFUsfl.Actors;

/// <summary>
/// One event of the optional JSON-lines log. Kinds: send, deliver, drop (not delivered, with a reason), fault
/// (an injected fault, <see cref="Fault"/> says which), corrupt-detected, failure, restart, resume, escalate, backoff, stop, crash.
/// </summary>
public readonly record struct ActorEvent(
    long TimeTicks, string Kind, string? From, string? To, ulong Id, string? Type, int Size, string? Fault, string? Detail);

/// <summary>
/// Writes <see cref="ActorEvent"/>s as JSON lines: <c>{"t":1.25,"kind":"deliver","from":...,"to":...,"id":3,"type":...,"size":120}</c>.
/// Time is seconds on the system clock, printed exactly from 100 ns ticks, so same-seed virtual runs give byte-identical logs.
/// </summary>
internal sealed class JsonLinesEventLog : IDisposable
{
    private readonly TextWriter _writer;
    private readonly bool _owns;
    private readonly ArrayBufferWriter _buffer = new();

    public JsonLinesEventLog(TextWriter writer, bool owns)
    {
        _writer = writer;
        _owns = owns;
    }

    private sealed class ArrayBufferWriter : System.Buffers.IBufferWriter<byte>
    {
        private byte[] _data = new byte[512];
        public int Count;
        public void Advance(int count) => Count += count;
        public Memory<byte> GetMemory(int sizeHint = 0) { Ensure(sizeHint); return _data.AsMemory(Count); }
        public Span<byte> GetSpan(int sizeHint = 0) { Ensure(sizeHint); return _data.AsSpan(Count); }
        private void Ensure(int hint) { if (_data.Length - Count < Math.Max(hint, 64)) Array.Resize(ref _data, Math.Max(_data.Length * 2, Count + hint + 64)); }
        public ReadOnlySpan<byte> Written => _data.AsSpan(0, Count);
    }

    public void Write(in ActorEvent e)
    {
        lock (_writer)
        {
            _buffer.Count = 0;
            using (var w = new Utf8JsonWriter(_buffer))
            {
                w.WriteStartObject();
                w.WritePropertyName("t");
                w.WriteRawValue(((decimal)e.TimeTicks / TimeSpan.TicksPerSecond).ToString(System.Globalization.CultureInfo.InvariantCulture), skipInputValidation: true);
                w.WriteString("kind", e.Kind);
                if (e.From is not null) w.WriteString("from", e.From);
                if (e.To is not null) w.WriteString("to", e.To);
                if (e.Id != 0) w.WriteNumber("id", e.Id);
                if (e.Type is not null) w.WriteString("type", e.Type);
                if (e.Size != 0) w.WriteNumber("size", e.Size);
                if (e.Fault is not null) w.WriteString("fault", e.Fault);
                if (e.Detail is not null) w.WriteString("detail", e.Detail);
                w.WriteEndObject();
            }
            _writer.Write(Encoding.UTF8.GetString(_buffer.Written));
            _writer.Write('\n');
        }
    }

    public void Flush()
    {
        lock (_writer) _writer.Flush();
    }

    public void Dispose()
    {
        Flush();
        if (_owns) _writer.Dispose();
    }
}
