namespace CoFUsfl.Simulation.Runner;

/// <summary>
/// Holds a run folder for one run: <c>RUN/.lock</c> open with <see cref="FileShare.None"/> (an exclusive flock on Unix,
/// a share mode on Windows), so a second run or <c>--resume</c> of the same folder stops before it reads or writes
/// anything, instead of interleaving rounds. The OS releases the lock when the process ends, however it ends, so a
/// .lock file left behind never blocks a later run.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    /// <summary>Name of the lock file inside the run folder.</summary>
    public const string FileName = ".lock";

    private readonly FileStream _file;

    private RunFolderLock(FileStream file) => _file = file;

    /// <summary>Takes the lock of the existing folder <paramref name="runDir"/>; <see cref="RunFolderInUseException"/> when another holds it.</summary>
    public static RunFolderLock Acquire(string runDir)
    {
        var path = Path.Combine(runDir, FileName);
        try
        {
            return new RunFolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (e is not (DirectoryNotFoundException or FileNotFoundException or PathTooLongException))
        {
            throw new RunFolderInUseException(runDir, e);
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>Another process (or run) holds the run folder's <see cref="RunFolderLock"/>.</summary>
public sealed class RunFolderInUseException(string runDir, Exception? inner = null)
    : IOException($"run folder {runDir} is in use by another run (it holds {Path.Combine(runDir, RunFolderLock.FileName)}); " +
        "wait for that run to finish, or give another --out", inner)
{
    public string RunDirectory { get; } = runDir;
}
