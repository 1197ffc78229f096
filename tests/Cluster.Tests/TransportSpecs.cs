using System.Collections.Concurrent;
using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Cluster.Tests.Messages;

namespace CoFUsfl.Cluster.Tests;

/// <summary>Actor systems in this process talking through a real broker.</summary>
[Collection("broker")]
public class TransportSpecs(BrokerFixture broker)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public void Two_systems_exchange_messages_and_the_order_of_each_pair_is_kept()
    {
        var (a, ta) = broker.Node("order-a");
        var (b, tb) = broker.Node("order-b");
        using (a) using (b)
        {
            var atB = new BlockingCollection<Numbered>();
            var atA = new BlockingCollection<Numbered>();
            b.ActorOf(Props.Create(() => new Recorder(atB, true)), "echo");
            var replies = a.ActorOf(Props.Create(() => new Recorder(atA, false)), "replies");
            var echo = a.Resolve("order-b/user/echo");
            for (var i = 0; i < 2000; i++) echo.Tell(new Numbered { From = "a", N = i }, replies);

            atB.Take(2000, Wait).Select(m => m.N).Should().Equal(Enumerable.Range(0, 2000).Select(i => (long)i));
            atA.Take(2000, Wait).Select(m => m.N).Should().Equal(Enumerable.Range(0, 2000).Select(i => (long)i));
            ta.Failures.Should().Be(0);
            tb.Failures.Should().Be(0);
            a.DeadLetterCount.Should().Be(0);
        }
    }

    [Fact]
    public void A_1_MiB_and_a_20_MiB_message_arrive_intact_the_larger_one_in_chunks()
    {
        var (a, ta) = broker.Node("big-a");
        var (b, tb) = broker.Node("big-b");
        using (a) using (b)
        {
            var got = new BlockingCollection<Numbered>();
            b.ActorOf(Props.Create(() => new Recorder(got, false)), "sink");
            var sink = a.Resolve("big-b/user/sink");
            sink.Tell(TestMessages.WithBody(1, 1 << 20));
            sink.Tell(TestMessages.WithBody(2, 20 << 20));

            var msgs = got.Take(2, Wait);
            msgs.Select(m => m.N).Should().Equal(1, 2);
            msgs.Select(m => m.Data.Length).Should().Equal(1 << 20, 20 << 20);
            msgs.Should().AllSatisfy(m => TestMessages.Hash(m.Data.Span).Should().Be(m.DataHash));
            (20 << 20).Should().BeGreaterThan(ta.Options.ChunkSize, "the 20 MiB envelope must take the chunked path");
            tb.EnvelopesReceived.Should().Be(2);
            ta.Failures.Should().Be(0);
        }
    }

    [Fact]
    public void An_envelope_above_the_maximum_is_refused_loudly_and_becomes_a_dead_letter()
    {
        var log = new ConcurrentQueue<string>();
        var (a, ta) = broker.Node("max-a", o => o with { MaxMessageSize = 8 << 20, Log = log.Enqueue });
        var (b, tb) = broker.Node("max-b");
        using (a) using (b)
        {
            var failures = new ConcurrentQueue<TransportFailure>();
            ta.Failed += failures.Enqueue;
            var got = new BlockingCollection<Numbered>();
            b.ActorOf(Props.Create(() => new Recorder(got, false)), "sink");
            var sink = a.Resolve("max-b/user/sink");
            sink.Tell(TestMessages.WithBody(1, 9 << 20));
            sink.Tell(new Numbered { N = 2 });

            got.Take(1, Wait).Single().N.Should().Be(2, "the small message after the refused one still goes through");
            failures.Should().ContainSingle().Which.Kind.Should().Be(TransportFailureKind.TooLarge);
            failures.Single().Detail.Should().Contain("max-message-size").And.Contain("max-b");
            log.Should().Contain(l => l.Contains("max-message-size"));
            a.RecentDeadLetters.Should().ContainSingle().Which.Reason.Should().Contain("exceeds the maximum message size");
            a.RecentDeadLetters.Single().Recipient.Should().Be("max-b/user/sink");
        }
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_clear_error_that_never_shows_the_password()
    {
        var bad = "not-" + broker.Password;
        var act = () => RabbitMqTransport.ConnectAsync(broker.Options(o => o with { Password = bad }));
        var e = (await act.Should().ThrowAsync<BrokerAuthenticationException>()).Which;
        e.Message.Should().Contain($"user '{broker.User}'").And.Contain($"virtual host '{broker.VirtualHost}'").And.Contain("127.0.0.1");
        e.ToString().Should().NotContain(bad).And.NotContain(broker.Password);
    }

    [Fact]
    public async Task A_node_from_another_runs_virtual_host_is_refused()
    {
        var act = () => RabbitMqTransport.ConnectAsync(broker.Options(o => o with { VirtualHost = "some-other-run" }));
        var e = (await act.Should().ThrowAsync<BrokerAuthenticationException>()).Which;
        e.Message.Should().Contain("virtual host 'some-other-run'");
        e.ToString().Should().NotContain(broker.Password);
    }

    [Fact]
    public void Credentials_come_from_the_environment_when_not_configured()
    {
        Environment.SetEnvironmentVariable(RabbitMqOptions.UserVariable, broker.User);
        Environment.SetEnvironmentVariable(RabbitMqOptions.PasswordVariable, broker.Password);
        try
        {
            using var t = RabbitMqTransport.Connect(broker.Options(o => o with { User = null, Password = null }));
            t.Options.EffectiveUser.Should().Be(broker.User);
        }
        finally
        {
            Environment.SetEnvironmentVariable(RabbitMqOptions.UserVariable, null);
            Environment.SetEnvironmentVariable(RabbitMqOptions.PasswordVariable, null);
        }
    }

    [Fact]
    public void A_second_live_node_with_a_taken_name_is_refused()
    {
        var (a, _) = broker.Node("twin");
        using (a)
        {
            var act = () => broker.Node("twin");
            act.Should().Throw<BrokerConnectionException>().WithMessage("*node name 'twin' is taken*");
        }
    }

    [Fact]
    public void Envelopes_for_a_node_that_never_joined_fail_after_the_deadline_as_dead_letters()
    {
        var (a, ta) = broker.Node("lonely", o => o with { UnreachableAfter = TimeSpan.FromSeconds(1), Log = _ => { } });
        using (a)
        {
            var failed = new BlockingCollection<TransportFailure>();
            ta.Failed += failed.Add;
            a.Resolve("nobody/user/x").Tell(new Numbered { N = 1 });
            failed.Take(1, Wait).Single().Kind.Should().Be(TransportFailureKind.Unroutable);
            a.RecentDeadLetters.Should().ContainSingle().Which.Reason.Should().Contain("nobody");
        }
    }

    [Fact]
    public void A_bounded_outbound_queue_holds_senders_back_instead_of_growing()
    {
        const int bound = 256 << 10;
        var (a, ta) = broker.Node("bp-a", o => o with { OutboundQueueBytes = bound, ChunkSize = 64 << 10 });
        var (b, _) = broker.Node("bp-b");
        using (a) using (b)
        {
            var got = new BlockingCollection<Numbered>();
            b.ActorOf(Props.Create(() => new Recorder(got, false)), "sink");
            var sink = a.Resolve("bp-b/user/sink");
            for (var i = 0; i < 400; i++) sink.Tell(TestMessages.WithBody(i, 50 << 10));
            got.Take(400, Wait).Select(m => m.N).Should().Equal(Enumerable.Range(0, 400).Select(i => (long)i));
            ta.PeakQueuedBytes.Should().BeLessThanOrEqualTo(bound).And.BeGreaterThan(0);
            ta.QueuedBytes.Should().Be(0);
        }
    }
}
