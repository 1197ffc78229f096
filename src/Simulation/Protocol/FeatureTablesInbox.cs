namespace CoFUsfl.Simulation.Protocol;

/// <summary>
/// The receiving end of one peer's learned-density feature tables (one split direction): the frozen tables by version,
/// the features that arrived before their tables (real clocks can reorder them), and the request to send for those.
/// The client (split-2 tables of the server) and the split server (split-1 tables of each client) use the same one.
/// </summary>
/// <typeparam name="TWaiting">What the owner needs to resume the waiting features (the message, and its sender).</typeparam>
public sealed class FeatureTablesInbox<TWaiting>
{
    private readonly Dictionary<ulong, FrozenFeatureTables> byVersion = [];
    private (ulong Version, TWaiting Item)? waiting;

    /// <summary>The tables of <paramref name="version"/>, or null when they never came.</summary>
    public FrozenFeatureTables? Get(ulong version) => byVersion.GetValueOrDefault(version);

    /// <summary>
    /// Null when <paramref name="features"/> can be decoded now (not entropy-coded, or their tables are here); otherwise
    /// keeps <paramref name="item"/> until those tables come (replacing what waited before) and returns the request to send.
    /// </summary>
    public TablesRequest? Admit(EncodedTensor features, TWaiting item, uint round, string client, uint split)
    {
        if (features.Codec != TensorCodec.Entropy || byVersion.ContainsKey(features.TableVersion)) return null;
        waiting = (features.TableVersion, item);
        return new TablesRequest { Round = round, Client = client, Split = split, Version = features.TableVersion };
    }

    /// <summary>
    /// Stores tables (<see cref="InvalidDataException"/> when they are malformed: nothing is stored); true with the item
    /// that waited for exactly this version, which can be decoded now.
    /// </summary>
    public bool Add(FeatureTables tables, out TWaiting item)
    {
        byVersion[tables.Version] = FrozenFeatureTables.FromMessage(tables);
        if (waiting is { } w && w.Version == tables.Version)
        {
            waiting = null;
            item = w.Item;
            return true;
        }
        item = default!;
        return false;
    }

    /// <summary>Forgets the waiting features (their round ended, or their sender failed); the tables stay.</summary>
    public void DropWaiting() => waiting = null;
}
