using CoFUsfl.Actors;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Roles;
using CoFUsfl.Simulation.Runner;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Tests;

/// <summary>
/// An undecodable payload (a buggy or hostile peer) is dropped, counted by kind in the round's messages and logged once
/// per cause, by the split server as by the client; runs report the counts as <c>rejected_by_kind</c>.
/// </summary>
public class RejectedPayloadSpecs
{
    private sealed class Collector(List<object> inbox) : Actor
    {
        protected override void OnReceive(object message) => inbox.Add(message);
    }

    private static SplitFeatures Malformed(uint attempt) => new()
    {
        Round = 1, Client = ClientSpec.IdOf(1), Step = 0, Attempt = attempt, Split = 1, RateNormalizer = 2 * 64 * 64,
        // Adaptive features of 8 channels with no per-channel gain: refused before anything is decoded.
        Features = new EncodedTensor { Codec = TensorCodec.Adaptive, Shape = { 2, 8, 32, 32 }, Strings = { ByteString.CopyFrom(1, 2, 3), ByteString.CopyFrom(4, 5) } },
    };

    [Fact]
    public void The_split_server_drops_counts_and_logs_once_what_does_not_decode_and_serves_on()
    {
        var o = SimulationSpecs.Small(features: "adaptive", clients: 1);
        var ctx = SimulationRunner.BuildContext(o, new SyntheticImages());
        var warnings = new List<string>();
        ctx.Rejections = new RejectedPayloads(warnings.Add);
        using var system = ActorSystem.Create(new ActorSystemOptions { Clock = ClockMode.Virtual });
        var inbox = new List<object>();
        var client = system.ActorOf(Props.Create(() => new Collector(inbox)), ClientSpec.IdOf(1));
        ctx.ClientRefs[ClientSpec.IdOf(1)] = ctx.Aggregator = ctx.Coordinator = client;
        ctx.Server = system.ActorOf(Props.Create(() => new SplitServerActor(ctx)), "server");
        ctx.Server.Tell(new RoundPlan { Round = 1, Clients = { ClientSpec.IdOf(1) }, LocalSteps = 1 }, client);
        ctx.Server.Tell(Malformed(0), client);
        ctx.Server.Tell(Malformed(1), client); // its retransmission, as broken
        ctx.Server.Tell(new StateRequest { Round = 1 }, client);
        system.RunUntilIdle();

        inbox.OfType<SplitFeatures>().Should().BeEmpty("nothing is answered to features that do not decode");
        var stats = inbox.OfType<ModelState>().Should().ContainSingle().Which.ServerStats;
        stats.Rejected.Should().ContainKey(RejectedPayloads.Features1).WhoseValue.Should().Be(2);
        warnings.Should().ContainSingle().Which.Should().Contain("split-1 features of client-0001, round 1, step 0").And.Contain("gains for 8 channels");
    }

    [Fact]
    public void A_client_drops_counts_and_logs_once_split_2_features_that_do_not_decode_instead_of_failing()
    {
        var o = SimulationSpecs.Small(features: "adaptive", clients: 1, steps: 1);
        var ctx = SimulationRunner.BuildContext(o, new SyntheticImages());
        var warnings = new List<string>();
        ctx.Rejections = new RejectedPayloads(warnings.Add);
        using var system = ActorSystem.Create(new ActorSystemOptions { Clock = ClockMode.Virtual });
        var inbox = new List<object>();
        var peer = system.ActorOf(Props.Create(() => new Collector(inbox)), "server");
        ctx.Server = ctx.Aggregator = ctx.Coordinator = peer;
        var spec = ctx.Clients[0];
        var client = system.ActorOf(Props.Create(() => new ClientActor(ctx, spec)), spec.Id);
        var global = new GlobalModel { Round = 1, LocalSteps = 1 };
        using (var init = new Split.ClientModel(ctx.Plan, ctx.EntropyUplink, o.Split.Features.GainInit, null))
            global.Parameters.AddRange(Strategies.ParameterSet.FromModule(init.named_parameters()).ToMessages());
        client.Tell(global, peer);
        system.RunUntilIdle(system.Now + TimeSpan.FromMilliseconds(1));
        inbox.OfType<SplitFeatures>().Should().ContainSingle("transfer [1] of step 0");
        var bad = Malformed(0);
        bad.Split = 2;
        client.Tell(bad, peer);
        client.Tell(bad, peer);
        system.RunUntilIdle();

        warnings.Should().ContainSingle().Which.Should().Contain("split-2 features of client-0001, round 1, step 0").And.Contain("gains for 8 channels");
        inbox.OfType<SplitFeatures>().Count().Should().BeGreaterThan(1, "the client retransmits [1] to get its [2] again");
        inbox.OfType<RoundAbandoned>().Should().ContainSingle().Which.Reason.Should().NotStartWith(ClientActor.RoundAbandonedFailed,
            "an undecodable payload does not crash the client: it gives up only when no valid reply comes");
    }

    [Fact]
    public void A_run_reports_rejected_by_kind_per_round_and_in_total_and_nothing_when_every_payload_decodes()
    {
        var r = SimulationSpecs.Run(SimulationSpecs.Small(features: "adaptive", rounds: 2));
        foreach (var line in r.Rounds) line["rejected_by_kind"]!.AsObject().Should().BeEmpty();
        r.Summary["rejected_by_kind"]!.AsObject().Should().BeEmpty();
    }
}
