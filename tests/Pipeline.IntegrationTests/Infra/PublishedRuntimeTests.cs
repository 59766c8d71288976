using System.Reflection.PortableExecutable;
using System.Text.Json;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Infra;

/// <summary>
/// What every executable runs as when published: precompiled (ReadyToRun) and with the runtime settings its docs
/// give. The edge runs without tiered PGO (docs/edge.md, "Why the edge runs without tiered PGO"); the workers keep it.
/// </summary>
public sealed class PublishedRuntimeTests
{
    public static TheoryData<string, bool> Executables => new()
    {
        { "producer/Pipeline.Edge", false },
        { "consumers/Pipeline.Consumers.Postgres", true },
        { "consumers/Pipeline.Consumers.Siem", true },
        { "consumers/Pipeline.Consumers.TopK", true },
        { "consumers/Pipeline.Consumers.Files", true },
        { "infra/Pipeline.Ops", true },
    };

    [Theory]
    [MemberData(nameof(Executables))]
    public void ThePublishedAssemblyIsPrecompiledAndItsRuntimeConfigSetsTieredPgoAsDocumented(string project, bool tieredPgo)
    {
        var dll = Repository.Executable(project);
        using (var pe = new PEReader(File.OpenRead(dll)))
        {
            // ReadyToRun code sits behind the CLI header's managed native header; a JIT-only assembly has none.
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{dll} is not ReadyToRun");
        }

        using var config = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(dll, ".runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(tieredPgo, properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }
}
