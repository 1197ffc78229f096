using System.Text.Json;
using CoFUsfl.Actors.Tests.Messages;

namespace CoFUsfl.Actors.Tests;

public class EventLogSpecs
{
    private sealed class Failer : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is Ping { N: 2 }) throw new InvalidOperationException("two");
        }
    }

    [Fact]
    public void The_event_log_is_JSON_lines_with_time_kind_endpoints_id_type_size_and_fault()
    {
        var writer = new StringWriter();
        var plan = new FaultPlan { Rules = [new FaultRule { To = "failer", Drop = 0.5 }] };
        using (var system = Systems.Virtual(new ActorSystemOptions { EventLog = writer, Faults = plan }))
        {
            var f = system.ActorOf(Props.Create(() => new Failer()), "failer");
            for (var i = 0; i < 20; i++) f.Tell(new Ping { N = i % 3 });
            system.RunUntilIdle();
        }
        var events = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        events.Select(e => e.GetProperty("kind").GetString()).Should().Contain(["send", "deliver", "fault", "failure", "restart", "stop"]);
        var deliver = events.First(e => e.GetProperty("kind").GetString() == "deliver");
        deliver.GetProperty("to").GetString().Should().Be("local/user/failer");
        deliver.GetProperty("type").GetString().Should().Be(Ping.Descriptor.FullName);
        deliver.GetProperty("size").GetInt32().Should().BePositive();
        deliver.GetProperty("id").GetUInt64().Should().BePositive();
        deliver.GetProperty("t").GetDecimal().Should().Be(0);
        events.Where(e => e.GetProperty("kind").GetString() == "fault").Should().OnlyContain(e => e.GetProperty("fault").GetString() == "drop");
    }

    [Fact]
    public void The_event_log_can_be_written_to_a_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cofusfl-actors-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var system = Systems.Virtual(new ActorSystemOptions { EventLogPath = path }))
            {
                var (p, _) = system.Probe("p");
                p.Tell(new Ping());
                system.RunUntilIdle();
            }
            File.ReadAllLines(path).Should().Contain(l => l.Contains("\"kind\":\"deliver\""));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Observers_see_the_events_without_a_log_and_their_sizes_add_up_to_the_counters()
    {
        using var system = Systems.Virtual();
        var delivered = new List<ActorEvent>();
        system.EventRecorded += e => { if (e.Kind == "deliver") delivered.Add(e); };
        var (p, _) = system.Probe("p");
        for (var i = 0; i < 10; i++) p.Tell(new Ping { N = i * 100_000 });
        system.RunUntilIdle();
        delivered.Should().HaveCount(10);
        delivered.Sum(e => (long)e.Size).Should().Be(system.Traffic.Total.BytesDelivered);
    }
}
