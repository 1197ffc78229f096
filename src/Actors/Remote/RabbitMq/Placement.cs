namespace CoFUsfl.Actors.Remote.RabbitMq;

/// <summary>A node that can host work, with its placement slots (see <see cref="NodeCapacity.Slots"/>).</summary>
public readonly record struct PlacementNode(string Name, int Slots);

/// <summary>
/// Places work items (client actors) on nodes in proportion to their slots. Deterministic: the result depends only on
/// the sets of items and nodes (not their order), so every run with the same workers places alike. Stable: an item
/// already on a node that is still there stays, so a join or a departure moves only the items that must move (a client's
/// personal state lives in its actor). Items of departed nodes, and new items, go to the node furthest below its quota.
/// </summary>
public static class CapacityPlacement
{
    /// <summary>
    /// Assigns every item of <paramref name="items"/> to a node of <paramref name="nodes"/>. <paramref name="current"/>
    /// is the placement so far (item → node); items on nodes not in <paramref name="nodes"/> are re-placed.
    /// Throws <see cref="InvalidOperationException"/> when no node has a slot.
    /// </summary>
    public static Dictionary<string, string> Assign(IEnumerable<string> items, IEnumerable<PlacementNode> nodes,
        IReadOnlyDictionary<string, string>? current = null)
    {
        var sortedItems = items.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var live = nodes.Where(n => n.Slots > 0).GroupBy(n => n.Name, StringComparer.Ordinal)
            .Select(g => g.First()).OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
        if (live.Count == 0)
            throw new InvalidOperationException(sortedItems.Count == 0 ? "no worker node with capacity"
                : $"cannot place {sortedItems.Count} clients: no worker node with capacity (cofusfl.cluster.node.cpu-slots / gpus)");

        var quota = Quotas(sortedItems.Count, live);
        var load = live.ToDictionary(n => n.Name, _ => 0, StringComparer.Ordinal);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var homeless = new List<string>();
        foreach (var item in sortedItems)
        {
            if (current is not null && current.TryGetValue(item, out var node) && load.ContainsKey(node))
            {
                result[item] = node;
                load[node]++;
            }
            else homeless.Add(item);
        }
        foreach (var item in homeless)
        {
            // Furthest below quota first; ties by the smaller load relative to slots, then by name.
            var target = live.OrderByDescending(n => quota[n.Name] - load[n.Name])
                .ThenBy(n => (double)load[n.Name] / n.Slots)
                .ThenBy(n => n.Name, StringComparer.Ordinal).First();
            result[item] = target.Name;
            load[target.Name]++;
        }
        return result;
    }

    /// <summary>Largest-remainder shares of <paramref name="count"/> items by slots (ties to the earlier name).</summary>
    private static Dictionary<string, int> Quotas(int count, List<PlacementNode> nodes)
    {
        var total = nodes.Sum(n => (long)n.Slots);
        var quota = new Dictionary<string, int>(StringComparer.Ordinal);
        var remainders = new List<(string Name, long Rem)>();
        var given = 0;
        foreach (var n in nodes)
        {
            var exact = (long)count * n.Slots;
            quota[n.Name] = (int)(exact / total);
            given += quota[n.Name];
            remainders.Add((n.Name, exact % total));
        }
        foreach (var (name, _) in remainders.OrderByDescending(r => r.Rem).ThenBy(r => r.Name, StringComparer.Ordinal).Take(count - given))
            quota[name]++;
        return quota;
    }
}
