using System.Text.Json;
using System.Text.Json.Nodes;
using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Simulation.Tests;

/// <summary>
/// Every default lives in <c>hocon/reference.conf</c>: the C# initializers of the options only mirror it, so code that
/// builds options in C# (specs, benchmarks, embedding programs) runs what a configuration file with no overrides runs.
/// </summary>
public class ReferenceDefaultsSpecs
{
    private static IEnumerable<string> Differences(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(kv => kv.Key).Union(ob.Select(kv => kv.Key)).Order(StringComparer.Ordinal))
                foreach (var d in Differences(oa[key], ob[key], $"{path}.{key}")) yield return d;
        }
        else if (!JsonNode.DeepEquals(a, b)) yield return $"{path}: reference.conf {a?.ToJsonString() ?? "null"}, new() {b?.ToJsonString() ?? "null"}";
    }

    [Fact]
    public void New_options_equal_the_bound_reference_configuration_in_every_value()
    {
        var reference = SimulationConfig.Bind(Config.ParseString(ReferenceConfig.Text, "reference.conf").Resolve(new ResolveOptions { UseEnvironment = false }));
        var fresh = new SimulationOptions();
        // Binding resolves a relative data root against the working directory or the checkout: compare the value as written.
        reference = reference with { Data = reference.Data with { Root = fresh.Data.Root } };
        var differences = Differences(JsonSerializer.SerializeToNode(reference), JsonSerializer.SerializeToNode(fresh), "cofusfl").ToList();
        differences.Should().BeEmpty();
        // The comparison sees nested options (a value changed deep inside is caught).
        Differences(JsonSerializer.SerializeToNode(reference), JsonSerializer.SerializeToNode(fresh with { Training = fresh.Training with { AuxLr = 0.5 } }), "cofusfl")
            .Should().ContainSingle().Which.Should().StartWith("cofusfl.Training.AuxLr");
    }
}
