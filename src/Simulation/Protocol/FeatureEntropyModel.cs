using CoFUsfl.Models.Coding;
using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Simulation.Protocol;

#pragma warning disable CS8981, IDE1006

/// <summary>A split's feature entropy model frozen for coding: the CDF tables, the medians they are centred on, and their version.</summary>
public sealed record FrozenFeatureTables(CdfTable Table, float[] Medians, ulong Version)
{
    public FeatureTables ToMessage(uint round, string client, uint split)
    {
        var m = new FeatureTables { Round = round, Client = client, Split = split, Version = Version, Table = Google.Protobuf.ByteString.CopyFrom(Table.Serialize()) };
        m.Medians.AddRange(Medians);
        return m;
    }

    public static FrozenFeatureTables FromMessage(FeatureTables m)
    {
        CdfTable table;
        try { table = CdfTable.Deserialize(m.Table.Span); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"feature tables v{m.Version:x} from {m.Client} (split {m.Split}): {e.Message}", e);
        }
        return new FrozenFeatureTables(table, m.Medians.ToArray(), m.Version);
    }
}

/// <summary>
/// The compact-feature model of one split (CoF): a learnable per-channel quantization gain and a factorized
/// entropy bottleneck over the scaled features. Training gives a differentiable rate estimate; coding writes a
/// real rANS bitstream of round(f·gain − median) under tables frozen at round start.
/// </summary>
public sealed class FeatureEntropyModel : Module
{
    public readonly Tensor log_gain;
    public readonly EntropyBottleneck entropy_bottleneck;
    public long Channels { get; }

    public FeatureEntropyModel(long channels, double gainInit, Generator? generator = null)
    {
        if (gainInit <= 0) throw new ArgumentOutOfRangeException(nameof(gainInit), gainInit, "quantization gain must be positive");
        Channels = channels;
        log_gain = RegisterParameter("log_gain", torch.full([channels], Math.Log(gainInit)));
        entropy_bottleneck = RegisterModule("entropy_bottleneck", new EntropyBottleneck(channels, generator: generator));
    }

    public Tensor gain() => log_gain.exp().reshape(1, Channels, 1, 1);

    /// <summary>Builds the CDF tables from the current density and freezes them with their medians.</summary>
    public FrozenFeatureTables Freeze()
    {
        entropy_bottleneck.update();
        var table = entropy_bottleneck.Table!;
        using var scope = DisposeScope.Open();
        var medians = entropy_bottleneck.medians().detach().cpu().reshape(Channels).data<float>();
        var bytes = table.Serialize();
        // Version = content hash of tables + medians: equal tables never need resending.
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(bytes);
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(medians.AsSpan()));
        var version = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(sha.GetHashAndReset());
        return new FrozenFeatureTables(table, medians, version);
    }
}
