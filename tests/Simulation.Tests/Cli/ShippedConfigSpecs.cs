using CoFUsfl.Cli;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>Every configuration the repository ships resolves, binds and validates (they are the users' starting points).</summary>
public class ShippedConfigSpecs
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(Repo.Root, "hocon"), "*.conf", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Repo.Root, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void A_shipped_configuration_binds_and_validates(string file)
    {
        var o = SimulationConfig.Bind(CliConfig.Load(Path.Combine(Repo.Root, file), []));
        SimulationRunner.Validate(o);
        Training.CodecTrainer.Validate(o.CodecTraining);
        if (Models.Codecs.CodecZoo.Names.Contains(o.Model.Name))
            SimulationRunner.ValidatePersonalPatterns(o, new Split.SplitPlan(o.Model.Name, o.Model.N, o.Model.M, o.Split.Head, o.Split.Tail).Validate());
        else
        {
            // A codec for `codec train` only (the FEDS teacher): it must build, and a U-SFL run must refuse it clearly.
            using var codec = Models.Codecs.CodecZoo.Create(o.Model.Name, o.Model.N, o.Model.M);
            FluentActions.Invoking(() => new Split.SplitPlan(o.Model.Name, o.Model.N, o.Model.M, o.Split.Head, o.Split.Tail).Validate())
                .Should().Throw<ArgumentException>().WithMessage("*a codec for cofusfl codec train*");
        }
        o.CodecTraining.DistillWeight.Should().BeInRange(0, 1);
        o.CodecTraining.ClassifyWeight.Should().BeGreaterThanOrEqualTo(0);
    }
}
