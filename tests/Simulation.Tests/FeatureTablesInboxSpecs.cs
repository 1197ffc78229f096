using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Tests;

/// <summary>The receiving end of a peer's feature tables, shared by the client and the split server.</summary>
public class FeatureTablesInboxSpecs
{
    [Fact]
    public void Features_wait_for_their_tables_version_and_are_handed_back_when_exactly_those_arrive()
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(1);
        using var model = new FeatureEntropyModel(4, 8, g);
        var v1 = model.Freeze();
        var inbox = new FeatureTablesInbox<string>();
        var entropy = new EncodedTensor { Codec = TensorCodec.Entropy, TableVersion = v1.Version };
        inbox.Admit(new EncodedTensor { Codec = TensorCodec.Adaptive }, "adaptive", 1, "client-0001", 1).Should().BeNull("only learned-density features need tables");

        var request = inbox.Admit(entropy, "features", 3, "client-0001", 1);
        request.Should().NotBeNull();
        request!.Version.Should().Be(v1.Version);
        (request.Round, request.Client, request.Split).Should().Be((3u, "client-0001", 1u));
        inbox.Get(v1.Version).Should().BeNull();

        var other = v1.ToMessage(3, "client-0001", 1);
        other.Version ^= 1; // another version: stored, the features keep waiting
        inbox.Add(other, out _).Should().BeFalse();
        var corrupt = v1.ToMessage(3, "client-0001", 1);
        corrupt.Table = Google.Protobuf.ByteString.CopyFrom(new byte[] { 1, 2, 3 });
        FluentActions.Invoking(() => inbox.Add(corrupt, out _)).Should().Throw<InvalidDataException>().WithMessage("*client-0001*");
        inbox.Get(v1.Version).Should().BeNull("malformed tables are not stored");

        inbox.Add(v1.ToMessage(3, "client-0001", 1), out var item).Should().BeTrue();
        item.Should().Be("features");
        inbox.Get(v1.Version)!.Medians.Should().Equal(v1.Medians);
        inbox.Admit(entropy, "again", 3, "client-0001", 1).Should().BeNull("its tables are here now");
        inbox.Add(v1.ToMessage(3, "client-0001", 1), out _).Should().BeFalse("nothing waits any more");
    }
}
