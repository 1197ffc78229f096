using System.Text.Json.Nodes;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Runner;
using Google.Protobuf.Reflection;

namespace CoFUsfl.Simulation.Tests;

public class PrivacyAndAccountingSpecs
{
    private static readonly HashSet<string> ClientMessages =
        ["SplitFeatures", "SplitGradient", "ClientUpdate", "FeatureTables", "TablesRequest", "GlobalModelAck", "RoundAbandoned"];

    private static (RunOutcome Outcome, List<JsonObject> Events) RunWithEventLog()
    {
        var o = SimulationSpecs.Small(rounds: 1) with { Runtime = new RuntimeOptions { SerializeMessages = true, EventLog = true } };
        var outcome = SimulationSpecs.Run(o);
        var events = File.ReadLines(Path.Combine(outcome.RunDirectory, "events.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        return (outcome, events);
    }

    private static string Short(string type) => type[(type.LastIndexOf('.') + 1)..];

    [Fact]
    public void Clients_send_only_features_gradients_tables_and_parameter_updates()
    {
        var (_, events) = RunWithEventLog();
        var sentByClients = events.Where(e => e["kind"]!.GetValue<string>() == "send" && (e["from"]?.GetValue<string>() ?? "").Contains("client-"))
            .Select(e => Short(e["type"]!.GetValue<string>())).ToHashSet();
        sentByClients.Should().NotBeEmpty();
        sentByClients.Should().BeSubsetOf(ClientMessages);
    }

    [Fact]
    public void No_message_a_client_sends_has_a_field_for_pixels_or_reconstructions()
    {
        // Every field of every client message (recursively), by name: features, gradients, tables, parameters, scalars.
        var seen = new HashSet<string>();
        void Walk(MessageDescriptor d)
        {
            if (!seen.Add(d.FullName)) return;
            foreach (var f in d.Fields.InDeclarationOrder())
            {
                f.Name.Should().NotMatchRegex("(?i)pixel|image|reconstruct|x_hat|xhat|rgb", $"{d.Name}.{f.Name} must not carry pixels");
                if (f.FieldType == FieldType.Message) Walk(f.MessageType);
            }
        }
        foreach (var d in UsflReflection.Descriptor.MessageTypes.Concat(UsflControlReflection.Descriptor.MessageTypes).Where(d => ClientMessages.Contains(d.Name)))
            Walk(d);
        seen.Should().Contain("cofusfl.usfl.EncodedTensor");
    }

    [Fact]
    public void Recorded_bytes_equal_the_sizes_of_the_serialized_envelopes_sent()
    {
        var (outcome, events) = RunWithEventLog();
        var fromLog = events.Where(e => e["kind"]!.GetValue<string>() == "send" && e["size"] is not null)
            .GroupBy(e => (Short(e["type"]!.GetValue<string>()), Role(e["from"]!.GetValue<string>()), Role(e["to"]!.GetValue<string>())))
            .ToDictionary(g => RunRecorder.TrafficKind(new CoFUsfl.Actors.TrafficKey(g.Key.Item2, g.Key.Item3, g.Key.Item1)), g => g.Sum(e => e["size"]!.GetValue<long>()));
        var recorded = outcome.Summary["bytes_by_kind"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<long>());
        recorded["transfer1_features_up"].Should().BeGreaterThan(0);
        foreach (var (kind, bytes) in recorded) fromLog.Should().ContainKey(kind).WhoseValue.Should().Be(bytes, kind);
    }

    private static string Role(string address)
    {
        var name = address[(address.LastIndexOf('/') + 1)..];
        return name.StartsWith("client-", StringComparison.Ordinal) ? "client" : name;
    }
}
