namespace CoFUsfl.Models.Coding;

/// <summary>
/// Codes the rANS strings of a batch (one per element, independent of each other) on several threads when they are
/// large enough; the bytes are the same either way. Shared by the learned entropy models and the adaptive coder.
/// </summary>
public static class ParallelStrings
{
    /// <summary>Symbols per string from which a batch is coded on several threads (below it, threads cost more than they save).</summary>
    public const int Threshold = 1 << 15;

    /// <summary>Threads for batch coding: -1 = as many as useful (the default), 1 = one thread.</summary>
    public static int MaxDegreeOfParallelism { get; set; } = -1;

    /// <summary>
    /// Runs <paramref name="body"/> for every batch element, in parallel when the batch is large enough. A failure is
    /// rethrown as itself (not an AggregateException), and always the one of the lowest element, so errors are the
    /// same as on one thread.
    /// </summary>
    public static void ForEachElement(int batch, long per, Action<int> body)
    {
        if (batch < 2 || per < Threshold || Environment.ProcessorCount < 2 || MaxDegreeOfParallelism == 1)
        {
            for (var b = 0; b < batch; b++) body(b);
            return;
        }
        var errors = new Exception?[batch];
        Parallel.For(0, batch, new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism }, b =>
        {
            try { body(b); }
            catch (Exception e) { errors[b] = e; }
        });
        if (Array.Find(errors, e => e is not null) is { } first)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
    }
}
