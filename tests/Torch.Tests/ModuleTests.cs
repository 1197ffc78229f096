using CoFUsfl.Torch.NN;

namespace CoFUsfl.Torch.Tests;

/// <summary>A small codec-shaped module: an analysis transform g_a (Sequential) and a loose parameter.</summary>
internal sealed class TinyCodec : Module<Tensor, Tensor>
{
    public readonly Sequential g_a;
    public readonly Tensor scale;

    public TinyCodec(Generator? gen = null, long n = 4)
    {
        g_a = RegisterModule("g_a", new Sequential(
            new Conv2d(3, n, 3, stride: 2, padding: 1, generator: gen),
            new Lambda("relu", x => x.relu()),
            new Conv2d(n, n, 3, stride: 1, padding: 1, generator: gen)));
        scale = RegisterParameter("scale", torch.ones([n]));
    }

    public override Tensor forward(Tensor x) => g_a.forward(x) * scale.reshape(1, -1, 1, 1);
}

public class ModuleTests
{
    [Fact]
    public void Parameters_have_dotted_PyTorch_names_in_registration_order()
    {
        using var m = new TinyCodec();
        m.named_parameters().Select(p => p.name).Should().Equal("scale", "g_a.0.weight", "g_a.0.bias", "g_a.2.weight", "g_a.2.bias");
        using var seq = new Sequential(new Linear(2, 3), new Linear(3, 1, bias: false));
        seq.named_parameters().Select(p => p.name).Should().Equal("0.weight", "0.bias", "1.weight");
        seq.state_dict().Keys.Should().BeEquivalentTo("0.weight", "0.bias", "1.weight");
    }

    [Fact]
    public void Parameter_count_and_shapes_follow_PyTorch_layouts()
    {
        using var m = new TinyCodec(n: 4);
        // conv 3->4 k3: 4*3*9 + 4; conv 4->4 k3: 4*4*9 + 4; scale: 4
        m.ParameterCount.Should().Be(112 + 148 + 4);
        var sd = m.state_dict();
        sd["g_a.0.weight"].shape.Should().Equal(4, 3, 3, 3);
        using var t = new ConvTranspose2d(4, 6, 5, stride: 2, padding: 2, outputPadding: 1);
        t.weight.shape.Should().Equal(4, 6, 5, 5);
        m.named_parameters().Should().OnlyContain(p => p.parameter.requires_grad && p.parameter.is_leaf);
    }

    [Fact]
    public void Module_forward_shapes_match_PyTorch()
    {
        using var scope = torch.NewDisposeScope();
        using var m = new TinyCodec(n: 4);
        m.forward(torch.zeros([2, 3, 16, 16])).shape.Should().Equal(2, 4, 8, 8);
        using var up = new ConvTranspose2d(4, 3, 5, stride: 2, padding: 2, outputPadding: 1);
        up.forward(torch.zeros([2, 4, 8, 8])).shape.Should().Equal(2, 3, 16, 16);
    }

    [Fact]
    public void Train_and_eval_propagate_to_every_submodule()
    {
        using var m = new TinyCodec();
        m.training.Should().BeTrue();
        m.eval();
        m.named_modules().Should().OnlyContain(x => !x.module.training);
        m.named_modules().Select(x => x.name).Should().Equal("", "g_a", "g_a.0", "g_a.1", "g_a.2");
        m.train();
        m.named_modules().Should().OnlyContain(x => x.module.training);
    }

    [Fact]
    public void Load_state_dict_copies_values_into_the_existing_parameters()
    {
        using var gen1 = new Generator(1);
        using var gen2 = new Generator(2);
        using var a = new TinyCodec(gen1);
        using var b = new TinyCodec(gen2);
        var weightBefore = b.g_a[0].named_parameters().First().parameter;
        a.g_a[0].named_parameters().First().parameter.equal(weightBefore).Should().BeFalse();
        b.load_state_dict(a.state_dict());
        b.g_a[0].named_parameters().First().parameter.Should().BeSameAs(weightBefore);
        foreach (var (name, p) in a.named_parameters()) b.state_dict()[name].equal(p).Should().BeTrue(name);
        b.named_parameters().Should().OnlyContain(p => p.parameter.requires_grad && p.parameter.is_leaf);
    }

    [Fact]
    public void Strict_load_names_missing_and_unexpected_keys()
    {
        using var m = new TinyCodec();
        using var scope = torch.NewDisposeScope();
        var sd = m.state_dict().Where(kv => kv.Key != "g_a.2.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["g_s.0.weight"] = torch.zeros([1]);
        var act = () => m.load_state_dict(sd);
        act.Should().Throw<StateDictException>().Where(e =>
            e.Message.Contains("missing keys: g_a.2.bias") && e.Message.Contains("unexpected keys: g_s.0.weight"));
    }

    [Fact]
    public void Non_strict_load_ignores_unexpected_and_missing_keys_but_loads_the_rest()
    {
        using var m = new TinyCodec();
        using var scope = torch.NewDisposeScope();
        var sd = new Dictionary<string, Tensor> { ["scale"] = torch.full([4], 7), ["extra"] = torch.zeros([1]) };
        m.load_state_dict(sd, strict: false);
        m.scale.data<float>().Should().Equal(7, 7, 7, 7);
    }

    [Fact]
    public void A_shape_mismatch_names_the_key_and_both_shapes_even_when_not_strict()
    {
        using var m = new TinyCodec();
        using var scope = torch.NewDisposeScope();
        var sd = new Dictionary<string, Tensor>(m.state_dict()) { ["g_a.0.weight"] = torch.zeros([4, 3, 5, 5]) };
        var act = () => m.load_state_dict(sd);
        act.Should().Throw<StateDictException>().WithMessage("*g_a.0.weight*[4, 3, 5, 5]*[4, 3, 3, 3]*");
        var loose = () => m.load_state_dict(sd, strict: false);
        loose.Should().Throw<StateDictException>().WithMessage("*g_a.0.weight*");
    }

    [Fact]
    public void Registering_a_duplicate_or_dotted_name_is_rejected()
    {
        var dup = () => new Sequential().Append(new Linear(1, 1)).Append(new Linear(1, 1));
        dup.Should().NotThrow();
        var bad = () => new BadModule();
        bad.Should().Throw<ArgumentException>().WithMessage("*'w' is already registered*");
    }

    private sealed class BadModule : Module<Tensor, Tensor>
    {
        public BadModule()
        {
            RegisterParameter("w", torch.zeros([1]));
            RegisterParameter("w", torch.zeros([1]));
        }
        public override Tensor forward(Tensor x) => x;
    }

    [Fact]
    public void To_cpu_keeps_parameter_identity_and_values()
    {
        using var m = new TinyCodec();
        var before = m.named_parameters().ToList();
        var values = before.Select(p => p.parameter.data<float>()).ToList();
        m.to(Device.CPU).Should().BeSameAs(m);
        var after = m.named_parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            after[i].parameter.Should().BeSameAs(before[i].parameter);
            after[i].parameter.data<float>().Should().Equal(values[i]);
            after[i].parameter.device.Should().Be(Device.CPU);
        }
    }

    [Fact]
    public void Zero_grad_clears_every_parameter_gradient()
    {
        using var m = new TinyCodec();
        using (var scope = torch.NewDisposeScope()) m.forward(torch.ones([1, 3, 4, 4])).sum().backward();
        m.named_parameters().Should().OnlyContain(p => p.parameter.grad != null);
        m.zero_grad();
        m.named_parameters().Should().OnlyContain(p => p.parameter.grad == null);
    }

    [Fact]
    public void Sequential_forward_range_applies_the_head_body_tail_cuts()
    {
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator(5);
        using var m = new TinyCodec(gen);
        var x = torch.randn([1, 3, 8, 8], gen);
        var whole = m.g_a.forward(x);
        var split = m.g_a.forward_range(m.g_a.forward_range(x, 0, 1), 1, 3);
        split.equal(whole).Should().BeTrue();
        var bad = () => m.g_a.forward_range(x, 2, 4);
        bad.Should().Throw<ArgumentOutOfRangeException>();
    }
}
