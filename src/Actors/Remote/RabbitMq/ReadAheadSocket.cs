using System.Net;
using System.Net.Sockets;
using RabbitMQ.Client;

namespace CoFUsfl.Actors.Remote.RabbitMq;

/// <summary>
/// The client library reads its socket through a pipe with 4 KiB buffers: one system call per 4 KiB, which at
/// hundreds of MiB/s costs more CPU than the copy. This socket reads ahead in large blocks and serves the small
/// reads from memory; writes are untouched.
/// </summary>
internal sealed class ReadAheadTcpClient : ITcpClient
{
    private readonly Socket _socket;
    private ReadAheadStream? _stream;

    public ReadAheadTcpClient(AddressFamily family) =>
        _socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

    public bool Connected => _socket.Connected;

    public TimeSpan ReceiveTimeout
    {
        get => TimeSpan.FromMilliseconds(_socket.ReceiveTimeout);
        set => _socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, value.TotalMilliseconds);
    }

    public Socket Client => _socket;

    public Task ConnectAsync(IPAddress host, int port, CancellationToken cancellationToken = default) =>
        _socket.ConnectAsync(host, port, cancellationToken).AsTask();

    public NetworkStream GetStream() => _stream ??= new ReadAheadStream(_socket);

    public void Close() => Dispose();

    public void Dispose()
    {
        if (_stream is not null) _stream.Dispose();
        else _socket.Dispose();
    }
}

/// <summary>A network stream that fills a 256 KiB buffer per receive and hands it out in the sizes asked for.</summary>
internal sealed class ReadAheadStream(Socket socket) : NetworkStream(socket, ownsSocket: true)
{
    private readonly byte[] _buffer = new byte[256 << 10];
    private int _pos, _len;

    private int Drain(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _len - _pos);
        _buffer.AsSpan(_pos, n).CopyTo(destination);
        _pos += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return ValueTask.FromResult(0);
        if (_pos < _len) return ValueTask.FromResult(Drain(buffer.Span));
        if (buffer.Length >= _buffer.Length) return base.ReadAsync(buffer, cancellationToken);
        return FillAsync(buffer, cancellationToken);
    }

    private async ValueTask<int> FillAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        _pos = 0;
        _len = await base.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        return _len == 0 ? 0 : Drain(destination.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        if (_pos < _len) return Drain(buffer);
        if (buffer.Length >= _buffer.Length) return base.Read(buffer);
        _pos = 0;
        _len = base.Read(_buffer);
        return _len == 0 ? 0 : Drain(buffer);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override bool DataAvailable => _pos < _len || base.DataAvailable;
}
