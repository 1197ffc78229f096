using System.Diagnostics;

namespace CoFUsfl.Actors;

/// <summary>
/// Real time: actors run as work items on the .NET thread pool (which keeps about one thread per core
/// while nothing blocks); delayed actions run on one timer thread in due order, so two actions due at
/// the same instant run in the order they were scheduled.
/// </summary>
internal sealed class RealTimeEngine : Engine
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly PriorityQueue<ScheduledItem, EventKey> _timers = new(EventKeyComparer.Instance);
    private readonly Thread _timerThread;
    private long _seq;
    private bool _stopped;

    public RealTimeEngine()
    {
        _timerThread = new Thread(TimerLoop) { IsBackground = true, Name = "cofusfl-actor-timers" };
        _timerThread.Start();
    }

    public override long NowTicks => Stopwatch.GetElapsedTime(_start).Ticks;
    public override bool IsVirtual => false;

    public override ScheduledItem ScheduleAt(long dueTicks, long rank, Action action)
    {
        var item = new ScheduledItem(action);
        lock (_timers)
        {
            _timers.Enqueue(item, new EventKey(dueTicks, 0, _seq++));
            Monitor.Pulse(_timers);
        }
        return item;
    }

    public override void Dispatch(ActorCell cell) => ThreadPool.UnsafeQueueUserWorkItem(cell, preferLocal: true);

    private void TimerLoop()
    {
        while (true)
        {
            ScheduledItem? due = null;
            lock (_timers)
            {
                while (due is null)
                {
                    if (_stopped) return;
                    if (!_timers.TryPeek(out var item, out var key))
                    {
                        Monitor.Wait(_timers);
                        continue;
                    }
                    var wait = key.Time - NowTicks;
                    if (wait > 0)
                    {
                        Monitor.Wait(_timers, TimeSpan.FromTicks(Math.Max(wait, TimeSpan.TicksPerMillisecond / 10)));
                        continue;
                    }
                    due = _timers.Dequeue();
                }
            }
            try { due.Run(); }
            catch (Exception e) { Trace.TraceError($"cofusfl actors: scheduled action failed: {e}"); }
        }
    }

    public override void Dispose()
    {
        lock (_timers)
        {
            _stopped = true;
            Monitor.Pulse(_timers);
        }
        _timerThread.Join(TimeSpan.FromSeconds(5));
    }
}
