using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Cluster;

namespace CoFUsfl.Cluster.Tests;

/// <summary>Binding <c>cofusfl.cluster</c> from HOCON.</summary>
public class ClusterSettingsSpecs
{
    private static ClusterSettings Bind(string text) => ClusterSettings.Bind(Config.ParseString(text).Resolve());

    [Fact]
    public void A_configuration_without_a_cluster_block_runs_in_process()
    {
        var s = Bind("cofusfl.run.rounds = 2");
        s.Enabled.Should().BeFalse();
        s.Transport.Should().Be(new RabbitMqOptions());
    }

    [Fact]
    public void Every_key_is_read_with_its_unit()
    {
        var s = Bind("""
            cofusfl.cluster {
              enabled = on
              min-nodes = 3
              broker { uri = "amqp://127.0.0.1:5673/run-7", user = alice, password = "s3cret", vhost = run-7 }
              node { name = worker-2, role = worker, cpu-slots = 4, gpus = 1 }
              heartbeat-interval = 500ms
              unreachable-after = 3s
              max-message-size = 64MiB
              chunk-size = 1MiB
              outbound-queue = 128MiB
            }
            """);
        s.Enabled.Should().BeTrue();
        s.MinNodes.Should().Be(3);
        s.NodeName.Should().Be("worker-2");
        var t = s.Transport;
        t.Uri.Port.Should().Be(5673);
        t.EffectiveUser.Should().Be("alice");
        t.EffectiveVirtualHost.Should().Be("run-7");
        t.Capacity.Should().Be(new NodeCapacity(4, 1));
        t.HeartbeatInterval.Should().Be(TimeSpan.FromMilliseconds(500));
        t.UnreachableAfter.Should().Be(TimeSpan.FromSeconds(3));
        t.MaxMessageSize.Should().Be(64L << 20);
        t.ChunkSize.Should().Be(1 << 20);
        t.OutboundQueueBytes.Should().Be(128L << 20);
    }

    [Fact]
    public void An_empty_user_or_password_falls_back_to_the_environment()
    {
        var s = Bind("cofusfl.cluster.broker { user = \"\", password = \"\" }");
        s.Transport.User.Should().BeNull();
        s.Transport.Password.Should().BeNull();
    }

    [Fact]
    public void Bad_values_are_refused_naming_the_key()
    {
        ((Action)(() => Bind("cofusfl.cluster.min-nodes = -1"))).Should().Throw<ArgumentException>().WithMessage("*cofusfl.cluster.min-nodes*");
        ((Action)(() => Bind("cofusfl.cluster.chunk-size = 100"))).Should().Throw<ArgumentException>().WithMessage("*cofusfl.cluster.chunk-size*");
        ((Action)(() => Bind("cofusfl.cluster.broker.uri = \"http://x\""))).Should().Throw<ArgumentException>().WithMessage("*cofusfl.cluster.broker.uri*");
        ((Action)(() => Bind("cofusfl.cluster.node.name = \"a/b\""))).Should().Throw<ArgumentException>().WithMessage("*cofusfl.cluster.node.name*");
        ((Action)(() => Bind("cofusfl.cluster.heartbeat-interval = soon"))).Should().Throw<ArgumentException>().WithMessage("*cofusfl.cluster.heartbeat-interval*");
    }
}
