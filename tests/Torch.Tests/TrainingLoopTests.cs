using CoFUsfl.Torch.NN;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Torch.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    public const string Name = "process memory (runs alone)";
}

/// <summary>Long training loops: memory stays flat, runs are reproducible from a seed.</summary>
[Collection(MemoryCollection.Name)]
public class TrainingLoopTests
{
    private static long RssBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Fact]
    public void Ten_thousand_forward_backward_Adam_steps_inside_dispose_scopes_keep_native_and_managed_memory_flat()
    {
        using var gen = new Generator(11);
        using var model = new Sequential(new Linear(32, 64, generator: gen), new Lambda("relu", x => x.relu()), new Linear(64, 32, generator: gen));
        using var opt = new Adam(model.parameters_(), 1e-3);
        long rss1k = 0, managed1k = 0;
        double firstLoss = 0, lastLoss = 0;
        for (var i = 1; i <= 10_000; i++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                var x = torch.randn([16, 32], gen);
                var loss = F.mse_loss(model.forward(x), x);
                opt.zero_grad();
                loss.backward();
                opt.step();
                if (i == 1) firstLoss = loss.item();
                if (i == 10_000) lastLoss = loss.item();
            }
            if (i == 1_000)
            {
                managed1k = ManagedBytes();
                rss1k = RssBytes();
            }
        }
        var managed10k = ManagedBytes();
        var rss10k = RssBytes();
        lastLoss.Should().BeLessThan(firstLoss, "the loop really trains");
        (rss10k - rss1k).Should().BeLessThan(4L << 20, $"native memory must not grow (RSS {rss1k >> 10} KiB after 1k steps, {rss10k >> 10} KiB after 10k)");
        (managed10k - managed1k).Should().BeLessThan(512L << 10, $"managed memory must not grow ({managed1k} B after 1k steps, {managed10k} B after 10k)");
    }

    private static List<Tensor> Train(ulong seed, int steps)
    {
        using var gen = new Generator(seed);
        var model = new TinyCodec(gen);
        using var opt = new Adam(model.parameters_(), 1e-2);
        for (var i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.randn([2, 3, 8, 8], gen);
            var y = model.forward(x);
            var yTilde = y + torch.uniform_like(y, -0.5, 0.5, gen); // the training-time quantization noise
            var loss = yTilde.square().mean() + F.mse_loss(y, torch.zeros_like(y));
            opt.zero_grad();
            loss.backward();
            opt.step();
        }
        return model.parameters_().ToList();
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_parameters_after_training_and_another_seed_does_not()
    {
        var a = Train(21, 15);
        var b = Train(21, 15);
        var c = Train(22, 15);
        a.Should().HaveCount(5);
        a.Zip(b).Should().OnlyContain(p => p.First.equal(p.Second), "the same seed must reproduce every bit");
        a.Zip(c).Should().Contain(p => !p.First.equal(p.Second), "a different seed must change the result");
        foreach (var t in a.Concat(b).Concat(c)) t.Dispose();
    }

    [Fact]
    public void A_generator_gives_the_same_noise_stream_for_the_same_seed_independently_of_the_global_seed()
    {
        using var s = torch.NewDisposeScope();
        var shape = torch.zeros([64]);
        using var g1 = new Generator(5);
        torch.manual_seed(1);
        var n1 = torch.uniform_like(shape, -0.5, 0.5, g1);
        using var g2 = new Generator(5);
        torch.manual_seed(2);
        var n2 = torch.uniform_like(shape, -0.5, 0.5, g2);
        n1.equal(n2).Should().BeTrue();
        n1.data<float>().Should().OnlyContain(v => v >= -0.5f && v < 0.5f);
        var n3 = torch.uniform_like(shape, -0.5, 0.5, g2);
        n3.equal(n2).Should().BeFalse("the stream advances");
    }
}
