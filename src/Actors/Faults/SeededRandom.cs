namespace CoFUsfl.Actors;

/// <summary>SplitMix64: tiny, fast, and the same sequence on every machine and runtime (System.Random's algorithm is not a contract).</summary>
internal struct SeededRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextULong()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public static ulong Mix(ulong a, ulong b)
    {
        var r = new SeededRandom(a ^ (b * 0x9E3779B97F4A7C15UL));
        return r.NextULong();
    }
}
