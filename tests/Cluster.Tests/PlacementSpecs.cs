using CoFUsfl.Actors.Remote.RabbitMq;

namespace CoFUsfl.Cluster.Tests;

/// <summary>Placing client actors on worker nodes by capacity, and re-placing those of a node that left.</summary>
public class PlacementSpecs
{
    private static readonly string[] Clients = [.. Enumerable.Range(1, 8).Select(i => $"client-{i:D4}")];

    private static Dictionary<string, int> Counts(Dictionary<string, string> placement) =>
        placement.GroupBy(p => p.Value).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void Clients_are_spread_in_proportion_to_the_slots_of_each_node()
    {
        var p = CapacityPlacement.Assign(Clients, [new("w1", 1), new("w2", 2), new("w3", 1)]);
        p.Keys.Should().BeEquivalentTo(Clients);
        Counts(p).Should().BeEquivalentTo(new Dictionary<string, int> { ["w1"] = 2, ["w2"] = 4, ["w3"] = 2 });
    }

    [Fact]
    public void The_placement_does_not_depend_on_the_order_in_which_clients_or_nodes_are_listed()
    {
        var a = CapacityPlacement.Assign(Clients, [new("w1", 3), new("w2", 2), new("w3", 2)]);
        var b = CapacityPlacement.Assign(Clients.Reverse(), [new("w3", 2), new("w1", 3), new("w2", 2)]);
        b.Should().BeEquivalentTo(a);
    }

    [Fact]
    public void Nodes_without_slots_get_nothing_and_no_capacity_at_all_is_a_clear_error()
    {
        Counts(CapacityPlacement.Assign(Clients, [new("w1", 0), new("w2", 1)])).Should().BeEquivalentTo(new Dictionary<string, int> { ["w2"] = 8 });
        var act = () => CapacityPlacement.Assign(Clients, [new("w1", 0)]);
        act.Should().Throw<InvalidOperationException>().WithMessage("*cannot place 8 clients*cpu-slots*");
    }

    [Fact]
    public void When_a_node_leaves_only_its_clients_move_and_they_go_where_there_is_room()
    {
        var before = CapacityPlacement.Assign(Clients, [new("w1", 1), new("w2", 1), new("w3", 2)]);
        var after = CapacityPlacement.Assign(Clients, [new("w1", 1), new("w3", 2)], before);
        after.Keys.Should().BeEquivalentTo(Clients, "no client is lost");
        after.Values.Should().NotContain("w2");
        foreach (var (client, node) in before.Where(p => p.Value != "w2"))
            after[client].Should().Be(node, $"{client} was on a node that stayed");
        Counts(after).Should().BeEquivalentTo(new Dictionary<string, int> { ["w1"] = 3, ["w3"] = 5 });
    }

    [Fact]
    public void A_node_that_joins_later_takes_new_clients_without_moving_placed_ones()
    {
        var before = CapacityPlacement.Assign(Clients[..4], [new("w1", 1)]);
        var after = CapacityPlacement.Assign(Clients, [new("w1", 1), new("w2", 1)], before);
        foreach (var c in Clients[..4]) after[c].Should().Be("w1");
        Clients[4..].Select(c => after[c]).Should().AllBe("w2");
    }
}

/// <summary>client_updates_sent on the coordinator: once per client actor and round, from its report or its update.</summary>
public class SentUpdatesSpecs
{
    [Fact]
    public void An_update_counts_as_sent_once_from_its_report_or_from_its_arrival_whichever_comes_first()
    {
        var counters = new CoFUsfl.Simulation.Runner.UpdateCounters();
        var finished = new List<(string, uint)>();
        var sent = new CoFUsfl.Simulation.Cluster.SentUpdates(counters, (c, r) => finished.Add((c, r)));

        sent.Mark("w1/user/client-0001", 1);   // report
        sent.Mark("w1/user/client-0001", 1);   // its update arrives
        sent.Mark("w1/user/client-0001", 1);   // a retransmission of the update
        counters.Sent.Should().Be(1, "report, update and retransmission are one update");

        sent.Mark("w1/user/client-0002", 1);   // the report was lost with the broker's queues: the update alone counts it
        counters.Sent.Should().Be(2);

        sent.Mark("w1/user/client-0001", 2);
        sent.Mark("w1/user/client-0001", 1);   // a late retransmission of round 1
        counters.Sent.Should().Be(3);

        sent.Mark("w2/user/client-0002", 1);   // re-placed on another worker, it trained round 1 again: another update
        counters.Sent.Should().Be(4);
        finished.Should().Equal([("client-0001", 1u), ("client-0002", 1u), ("client-0001", 2u), ("client-0002", 1u)]);
    }
}
