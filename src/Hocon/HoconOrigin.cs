namespace CoFUsfl.Hocon;

/// <summary>Where a value or a problem comes from: an origin description (usually a file path), a 1-based line and column.</summary>
public sealed record HoconOrigin(string Description, int Line, int Column)
{
    /// <summary>An origin for values built in code rather than parsed.</summary>
    public static HoconOrigin Synthetic(string description) => new(description, 0, 0);

    /// <summary><c>FILE:LINE:COLUMN</c> (or just the description when there is no position).</summary>
    public override string ToString() => Line > 0 ? $"{Description}:{Line}:{Column}" : Description;
}

/// <summary>Any parse, resolve, type or binding problem. <see cref="Exception.Message"/> is <c>FILE:LINE:COLUMN: detail</c>.</summary>
public sealed class HoconException : Exception
{
    /// <summary>Creates an error at <paramref name="origin"/>.</summary>
    public HoconException(HoconOrigin origin, string detail, Exception? inner = null)
        : base($"{origin}: {detail}", inner)
    {
        Origin = origin;
        Detail = detail;
    }

    /// <summary>Position of the problem.</summary>
    public HoconOrigin Origin { get; }
    /// <summary>The message without the position prefix.</summary>
    public string Detail { get; }
    /// <summary>Origin description (file path, or a description such as <c>-D</c> or <c>String</c>).</summary>
    public string File => Origin.Description;
    /// <summary>1-based line (0 when unknown).</summary>
    public int Line => Origin.Line;
    /// <summary>1-based column (0 when unknown).</summary>
    public int Column => Origin.Column;
}
