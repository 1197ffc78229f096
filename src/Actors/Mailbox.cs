namespace CoFUsfl.Actors;

/// <summary>One queued message: the payload (possibly a <see cref="Traced"/> wrapper) and its sender.</summary>
internal readonly struct Delivery(object message, ActorRef? sender)
{
    public readonly object Message = message;
    public readonly ActorRef? Sender = sender;
}

/// <summary>
/// Multi-producer single-consumer mailbox. Producers append to one array under a lock; the consumer swaps
/// that array with its drained one, so it takes the lock once per batch. Arrays start empty and small buffers
/// are kept, large ones released when drained: an idle actor costs a few dozen bytes here.
/// </summary>
internal sealed class Mailbox
{
    private const int KeepCapacity = 8;
    private Delivery[] _in = [];
    private int _inCount;
    private Delivery[] _out = [];
    private int _outPos, _outCount;
    private int _count;              // maintained only when bounded
    private int _waiters;            // producers blocked on a full bounded mailbox
    private Queue<SystemMessage>? _system;
    private volatile int _systemCount;
    private readonly int _capacity;

    public Mailbox(int capacity) => _capacity = capacity;

    public bool IsBounded => _capacity > 0;
    public bool HasSystem => _systemCount > 0;
    public bool HasUser => Volatile.Read(ref _inCount) > 0 || _outPos < _outCount;
    public int Count => Volatile.Read(ref _inCount) + (_outCount - _outPos);

    /// <summary>Appends a message; false when a bounded mailbox is full (after waiting up to <paramref name="wait"/>).</summary>
    public bool TryEnqueue(in Delivery d, TimeSpan wait)
    {
        lock (this)
        {
            if (_capacity > 0 && _count >= _capacity)
            {
                if (wait <= TimeSpan.Zero) return false;
                var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
                _waiters++;
                try
                {
                    while (_count >= _capacity)
                    {
                        var left = deadline - Environment.TickCount64;
                        if (left <= 0 || !Monitor.Wait(this, (int)Math.Min(left, int.MaxValue))) 
                            if (_count >= _capacity) return false;
                    }
                }
                finally { _waiters--; }
            }
            if (_inCount == _in.Length) Array.Resize(ref _in, Math.Max(4, _in.Length * 2));
            _in[_inCount] = d;
            Volatile.Write(ref _inCount, _inCount + 1);
            if (_capacity > 0) _count++;
        }
        return true;
    }

    /// <summary>Consumer only.</summary>
    public bool TryDequeue(out Delivery d)
    {
        if (_outPos >= _outCount && !Swap())
        {
            d = default;
            return false;
        }
        d = _out[_outPos];
        _out[_outPos++] = default;
        if (_capacity > 0) Consumed();
        return true;
    }

    private void Consumed()
    {
        lock (this)
        {
            _count--;
            if (_waiters > 0) Monitor.PulseAll(this);
        }
    }

    private bool Swap()
    {
        if (Volatile.Read(ref _inCount) == 0) return false;
        lock (this)
        {
            var drained = _out.Length > KeepCapacity ? [] : _out;
            _out = _in;
            _outCount = _inCount;
            _outPos = 0;
            _in = drained;
            Volatile.Write(ref _inCount, 0);
        }
        return _outCount > 0;
    }

    /// <summary>Releases large buffers of an empty mailbox (consumer only, when the actor goes idle).</summary>
    public void Trim()
    {
        if (_outPos >= _outCount && _out.Length > KeepCapacity)
        {
            _out = [];
            _outPos = _outCount = 0;
        }
    }

    public void EnqueueSystem(SystemMessage m)
    {
        lock (this)
        {
            (_system ??= new Queue<SystemMessage>(2)).Enqueue(m);
            _systemCount++;
        }
    }

    public bool TryDequeueSystem(out SystemMessage? m)
    {
        if (_systemCount == 0) { m = null; return false; }
        lock (this)
        {
            if (_system is null || _system.Count == 0) { m = null; return false; }
            m = _system.Dequeue();
            _systemCount--;
            if (_systemCount == 0) _system = null;
            return true;
        }
    }
}
