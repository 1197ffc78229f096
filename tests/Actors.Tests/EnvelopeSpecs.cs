using CoFUsfl.Actors.Protocol;
using CoFUsfl.Actors.Tests.Messages;
using System.Text.Json;
using Google.Protobuf;

namespace CoFUsfl.Actors.Tests;

public class EnvelopeSpecs
{
    [Theory]
    [InlineData("", "local/user/server", 1UL, 0UL, 0)]
    [InlineData("local/user/client-17", "local/user/server", 300UL, 0UL, 10)]
    [InlineData("n\u00e9ud/user/\u00e9", "local/temp/ask-1", ulong.MaxValue, 99UL, 200_000)]
    public void The_computed_envelope_size_equals_the_serialized_size(string sender, string recipient, ulong id, ulong correlation, int payloadBytes)
    {
        var blob = new Blob { Data = ByteString.CopyFrom(new byte[payloadBytes]) };
        var env = EnvelopeCodec.Wrap(sender, recipient, id, correlation, blob);
        EnvelopeCodec.ComputeSize(sender, recipient, id, correlation, Blob.Descriptor.FullName, blob.CalculateSize())
            .Should().Be(env.CalculateSize()).And.Be(env.ToByteArray().Length);
    }

    [Fact]
    public void The_checksum_is_CRC32C()
    {
        // Standard check value of CRC-32C.
        Crc32C.Compute("123456789"u8).Should().Be(0xE3069283);
        var data = new byte[1000];
        new Random(5).NextBytes(data);
        Crc32C.Compute(data).Should().Be(Crc32C.ComputeSoftware(data));
    }

    [Fact]
    public void Traffic_bytes_equal_the_sizes_of_the_envelopes_actually_serialized()
    {
        long Bytes(bool serialize)
        {
            using var system = Systems.Virtual(new ActorSystemOptions { SerializeMessages = serialize });
            var echo = system.ActorOf(Props.Create<Echo>(), "server");
            var (client, _) = system.Probe("client-1");
            for (var i = 0; i < 50; i++) echo.Tell(new Ping { N = i * 1000, From = new string('x', i) }, client);
            system.RunUntilIdle();
            var up = system.Traffic.Get("client", "server", Ping.Descriptor.FullName);
            var down = system.Traffic.Get("server", "client", Pong.Descriptor.FullName);
            up.MessagesDelivered.Should().Be(50);
            down.MessagesDelivered.Should().Be(50);
            up.BytesSent.Should().Be(up.BytesDelivered);
            return up.BytesDelivered + down.BytesDelivered;
        }
        // With serialization on, delivered bytes are the lengths of the real envelopes; without, the computed sizes.
        Bytes(serialize: false).Should().Be(Bytes(serialize: true));
    }

    [Fact]
    public void Message_ids_count_per_sender_and_recipient_so_envelope_bytes_do_not_depend_on_other_traffic()
    {
        (long Bytes, List<ulong> Ids) Run(bool noise)
        {
            var log = new StringWriter();
            using (var system = Systems.Virtual(new ActorSystemOptions { EventLog = log }))
            {
                var server = system.ActorOf(Props.Create<Echo>(), "server");
                var (client, _) = system.Probe("client-1");
                var (other, _) = system.Probe("other");
                var (sink, _) = system.Probe("sink");
                if (noise)
                {
                    // 300 messages before: a counter of the whole system would give the client's next id a 2-byte varint.
                    for (var i = 0; i < 150; i++) server.Tell(new Ping { N = i }, other);
                    for (var i = 0; i < 150; i++) sink.Tell(new Ping { N = i }, client);
                    system.RunUntilIdle();
                }
                for (var i = 0; i < 5; i++) server.Tell(new Ping { N = 1000 + i }, client);
                system.RunUntilIdle();
                var bytes = system.Traffic.Get("client", "server", Ping.Descriptor.FullName).BytesSent;
                var ids = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
                    .Where(e => e.GetProperty("kind").GetString() == "send"
                                && e.GetProperty("from").GetString() == "local/user/client-1" && e.GetProperty("to").GetString() == "local/user/server")
                    .Select(e => e.GetProperty("id").GetUInt64()).ToList();
                return (bytes, ids);
            }
        }
        var quiet = Run(noise: false);
        var busy = Run(noise: true);
        quiet.Ids.Should().Equal([1UL, 2UL, 3UL, 4UL, 5UL], "the id is the message's number from this sender to this recipient");
        busy.Ids.Should().Equal(quiet.Ids, "traffic of other pairs does not move the ids");
        busy.Bytes.Should().Be(quiet.Bytes, "the same messages of a pair have the same envelope bytes whatever came before");
    }

    private sealed class Keeper(Inbox inbox) : Actor
    {
        protected override void OnReceive(object message) => inbox.Add(message, Sender, Context.Now);
    }

    [Fact]
    public void With_serialization_on_the_receiver_gets_an_equal_copy_and_the_sender_by_address()
    {
        using var system = Systems.Virtual(new ActorSystemOptions { SerializeMessages = true });
        var (probe, inbox) = system.Probe("probe");
        var (other, _) = system.Probe("other");
        var ping = new Ping { N = 42, From = "me" };
        probe.Tell(ping, other);
        system.RunUntilIdle();
        var got = inbox.All.Single();
        got.Message.Should().Be(ping).And.NotBeSameAs(ping);
        got.Sender.Should().BeSameAs(other);
    }

    [Fact]
    public void Without_serialization_in_process_delivery_passes_the_same_object()
    {
        using var system = Systems.Virtual();
        var (probe, inbox) = system.Probe("probe");
        var ping = new Ping { N = 42 };
        probe.Tell(ping);
        system.RunUntilIdle();
        inbox.All.Single().Message.Should().BeSameAs(ping);
    }

    private static byte[] Serialized(string recipient, IMessage payload) => EnvelopeCodec.Wrap("", recipient, 1, 0, payload).ToByteArray();

    [Fact]
    public void Malformed_envelopes_unknown_types_and_bad_checksums_are_rejected_with_a_reason_never_thrown()
    {
        var transport = new CapturingTransport();
        using var system = Systems.Virtual(new ActorSystemOptions { NodeName = "n1", Transport = transport });
        var (probe, inbox) = system.Probe("probe");
        var receiver = transport.Receiver!;

        receiver.Receive([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]);
        var unknown = EnvelopeCodec.Wrap("", probe.Address, 2, 0, new Ping { N = 1 });
        unknown.PayloadType = "nobody.Knows";
        receiver.Receive(unknown.ToByteArray());
        var bad = EnvelopeCodec.Wrap("", probe.Address, 3, 0, new Ping { N = 1 });
        bad.Checksum ^= 1;
        receiver.Receive(bad.ToByteArray());
        var noChecksum = EnvelopeCodec.Wrap("", probe.Address, 4, 0, new Ping { N = 1 });
        noChecksum.ClearChecksum();
        receiver.Receive(noChecksum.ToByteArray());
        receiver.Receive(Serialized("n1/user/nobody", new Ping()));
        receiver.Receive(Serialized("n2/user/probe", new Ping()));
        receiver.Receive(Serialized(probe.Address, new Ping { N = 9 }));
        system.RunUntilIdle();

        inbox.All.Single().Message.Should().Be(new Ping { N = 9 });
        system.Traffic.Rejections.Should().Equal(new Dictionary<string, long>
        {
            ["checksum mismatch"] = 1, ["malformed envelope"] = 1, ["missing checksum"] = 1,
            ["unknown payload type"] = 1, ["unknown recipient"] = 1, ["wrong node"] = 1,
        });
        system.DeadLetterCount.Should().Be(6);
        system.RecentDeadLetters.Select(d => d.Reason).Should().Contain(r => r.StartsWith("unknown payload type: no message type named 'nobody.Knows'"));
    }

    /// <summary>Keeps the receiver the system hands to its transport, to inject raw bytes as if from the wire.</summary>
    private sealed class CapturingTransport : IRemoteTransport
    {
        public IEnvelopeReceiver? Receiver;
        public void Start(NodeId localNode, IEnvelopeReceiver receiver) => Receiver = receiver;
        public bool Send(string node, ReadOnlyMemory<byte> envelope) => false;
        public void Dispose() { }
    }

    [Fact]
    public void The_registry_finds_message_types_of_any_loaded_assembly_by_full_name()
    {
        var registry = new MessageRegistry();
        registry.TryGet("cofusfl.actors.tests.Blob", out var d).Should().BeTrue();
        d.ClrType.Should().Be(typeof(Blob));
        registry.TryGet("cofusfl.actors.Envelope", out var e).Should().BeTrue();
        e.ClrType.Should().Be(typeof(Envelope));
        registry.TryGet("no.Such", out _).Should().BeFalse();
    }
}
