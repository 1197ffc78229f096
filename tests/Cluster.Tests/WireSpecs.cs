using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;

namespace CoFUsfl.Cluster.Tests;

/// <summary>Reassembly and duplicate suppression of the transport's frames, without a broker.</summary>
public class WireSpecs
{
    private readonly List<byte[]> _delivered = [];
    private readonly List<string> _failures = [];
    private readonly Reassembler _r = new(maxMessageSize: 1 << 20);

    private void Accept(string sender, byte[] body) => _r.Accept(sender, body, e => _delivered.Add(e.ToArray()), _failures.Add);

    private static List<byte[]> Chunks(ulong firstSeq, byte[] data, int chunk)
    {
        var count = (data.Length + chunk - 1) / chunk;
        return [.. Enumerable.Range(0, count).Select(i =>
            Wire.Chunk(firstSeq + (ulong)i, firstSeq, i, count, data.Length, data.AsSpan(i * chunk, Math.Min(chunk, data.Length - i * chunk))))];
    }

    [Fact]
    public void A_whole_envelope_passes_through_unchanged()
    {
        Accept("a#1", Wire.Whole(1, [1, 2, 3]));
        _delivered.Should().ContainSingle().Which.Should().Equal(1, 2, 3);
        _failures.Should().BeEmpty();
    }

    [Fact]
    public void Chunks_in_order_are_reassembled_into_the_original_bytes()
    {
        var data = new byte[10_000];
        new Random(1).NextBytes(data);
        foreach (var c in Chunks(5, data, 4096)) Accept("a#1", c);
        _delivered.Should().ContainSingle().Which.Should().Equal(data);
        _failures.Should().BeEmpty();
    }

    [Fact]
    public void A_repeated_sequence_number_is_dropped_as_a_duplicate()
    {
        Accept("a#1", Wire.Whole(1, [1]));
        Accept("a#1", Wire.Whole(1, [1]));
        Accept("a#1", Wire.Whole(2, [2]));
        _delivered.Select(d => d[0]).Should().Equal(1, 2);
        _r.Duplicates.Should().Be(1);
    }

    [Fact]
    public void Sequence_numbers_are_per_sender_incarnation()
    {
        Accept("a#1", Wire.Whole(7, [1]));
        Accept("a#2", Wire.Whole(1, [2]));
        Accept("b#1", Wire.Whole(1, [3]));
        _delivered.Should().HaveCount(3);
    }

    [Fact]
    public void A_transfer_missing_a_chunk_is_reported_and_not_delivered()
    {
        var data = new byte[10_000];
        var chunks = Chunks(1, data, 4096);
        Accept("a#1", chunks[0]);
        Accept("a#1", chunks[2]);
        _delivered.Should().BeEmpty();
        _failures.Should().ContainSingle().Which.Should().Contain("chunk 2/3").And.Contain("a#1");
    }

    [Fact]
    public void A_transfer_cut_short_by_a_new_message_is_reported()
    {
        var chunks = Chunks(1, new byte[10_000], 4096);
        Accept("a#1", chunks[0]);
        Accept("a#1", Wire.Whole(10, [9]));
        _delivered.Should().ContainSingle().Which.Should().Equal(9);
        _failures.Should().ContainSingle().Which.Should().Contain("lost chunks");
    }

    [Fact]
    public void A_transfer_announcing_more_than_the_maximum_is_refused()
    {
        Accept("a#1", Wire.Chunk(1, 1, 0, 1000, 2L << 20, new byte[4096]));
        _delivered.Should().BeEmpty();
        _failures.Should().ContainSingle().Which.Should().Contain("max-message-size");
    }

    [Fact]
    public void Bytes_that_are_not_a_frame_are_reported_not_thrown()
    {
        Accept("a#1", [0x01, 0x02]);
        Accept("a#1", new byte[20]);
        _failures.Should().HaveCount(2).And.AllSatisfy(f => f.Should().Contain("not a transport frame"));
    }

    [Fact]
    public void A_departed_sender_releases_its_partial_transfer_with_a_report()
    {
        var chunks = Chunks(1, new byte[10_000], 4096);
        Accept("a#1", chunks[0]);
        _r.Departed("a#1");
        Accept("b#1", Wire.Whole(1, [1]));
        _failures.Should().ContainSingle().Which.Should().Contain("the sender left");
    }
}

/// <summary>The membership state machine with a hand-driven clock.</summary>
public class MembershipViewSpecs
{
    private DateTime _now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly List<MemberEvent> _events = [];
    private readonly ClusterMembership _m;

    public MembershipViewSpecs()
    {
        _m = new ClusterMembership(new NodeId("self", 1), TimeSpan.FromSeconds(5), () => _now);
        _m.Changed += _events.Add;
    }

    private static NodeId W(ulong inc = 1) => new("w1", inc);

    [Fact]
    public void A_first_heartbeat_joins_with_role_and_capacity_and_the_own_node_is_not_a_member()
    {
        _m.OnHeartbeat(new NodeId("self", 1), "coordinator", new(1, 0), leaving: false);
        _m.OnHeartbeat(W(), "worker", new(4, 1), leaving: false);
        _m.OnHeartbeat(W(), "worker", new(4, 1), leaving: false);
        _events.Should().ContainSingle().Which.Kind.Should().Be(MemberEventKind.Joined);
        _m.Members.Should().ContainSingle().Which.Should().Match<Member>(m => m.Role == "worker" && m.Capacity.CpuSlots == 4 && m.Capacity.Gpus == 1);
    }

    [Fact]
    public void Silence_past_the_deadline_makes_a_member_unreachable_and_a_heartbeat_brings_it_back()
    {
        _m.OnHeartbeat(W(), "worker", new(1, 0), false);
        _now += TimeSpan.FromSeconds(4.9);
        _m.CheckDeadlines(TimeSpan.FromSeconds(2));
        _events.Should().HaveCount(1);
        _now += TimeSpan.FromSeconds(0.2);
        _m.CheckDeadlines(TimeSpan.FromSeconds(2));
        _events.Select(e => e.Kind).Should().Equal(MemberEventKind.Joined, MemberEventKind.Unreachable);
        _m.OnHeartbeat(W(), "worker", new(1, 0), false);
        _events.Select(e => e.Kind).Should().Equal(MemberEventKind.Joined, MemberEventKind.Unreachable, MemberEventKind.Reachable);
    }

    [Fact]
    public void A_leave_removes_the_member_and_late_heartbeats_of_that_incarnation_do_not_revive_it()
    {
        _m.OnHeartbeat(W(), "worker", new(1, 0), false);
        _m.OnHeartbeat(W(), "worker", new(1, 0), true);
        _m.OnHeartbeat(W(), "worker", new(1, 0), false);
        _events.Select(e => e.Kind).Should().Equal(MemberEventKind.Joined, MemberEventKind.Left);
        _m.Members.Should().BeEmpty();
    }

    [Fact]
    public void A_restarted_node_is_a_new_member_and_the_old_incarnation_leaves()
    {
        _m.OnHeartbeat(W(1), "worker", new(1, 0), false);
        _m.OnHeartbeat(W(2), "worker", new(1, 0), false);
        _m.OnHeartbeat(W(1), "worker", new(1, 0), false);   // stale: ignored
        _events.Select(e => (e.Kind, e.Member.Node.Incarnation)).Should().Equal(
            (MemberEventKind.Joined, 1UL), (MemberEventKind.Left, 1UL), (MemberEventKind.Joined, 2UL));
        _events[1].Reason.Should().Contain("restarted");
    }

    [Fact]
    public void The_broker_reporting_an_inbox_gone_makes_the_member_leave()
    {
        _m.OnHeartbeat(W(), "worker", new(1, 0), false);
        _m.OnGone(W(), "inbox vanished");
        _events.Select(e => e.Kind).Should().Equal(MemberEventKind.Joined, MemberEventKind.Left);
        _m.Find("w1")!.Status.Should().Be(MemberStatus.Left);
    }

    [Fact]
    public void A_late_subscriber_first_hears_the_current_members()
    {
        _m.OnHeartbeat(W(), "worker", new(1, 0), false);
        var seen = new List<MemberEvent>();
        using (_m.Subscribe(seen.Add))
            _m.OnHeartbeat(new NodeId("w2", 1), "worker", new(1, 0), false);
        _m.OnHeartbeat(new NodeId("w3", 1), "worker", new(1, 0), false);
        seen.Select(e => e.Member.Node.Name).Should().Equal("w1", "w2");
    }

    [Fact]
    public async Task Waiting_for_members_times_out_with_the_current_view_in_the_message()
    {
        _m.OnHeartbeat(W(), "worker", new(1, 0), false);
        var act = () => _m.WaitForAsync(ms => ms.Count >= 2, TimeSpan.FromMilliseconds(100));
        (await act.Should().ThrowAsync<TimeoutException>()).Which.Message.Should().Contain("w1#1 Up");
    }
}
