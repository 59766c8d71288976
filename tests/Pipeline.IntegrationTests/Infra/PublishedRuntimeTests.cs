using System.Reflection.PortableExecutable;
using System.Text.Json;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Infra;

/// <summary>
/// What every executable runs as when published: precompiled (ReadyToRun) and with the runtime settings its docs
/// give. The edge runs without tiered PGO (docs/edge.md, "Why the edge runs without tiered PGO"); the workers keep it
/// and recompile a method after 1,000 calls instead of 30 (docs/consumers.md, "Recompiling at a start"); the thread-pool
/// workers of the edge and of every consumer do not spin for work (docs/edge.md, "Thread-pool workers that do not spin";
/// docs/consumers.md); the workers collect garbage without a background thread (docs/consumers.md, "Garbage collection
/// without a background thread"); the operator tool keeps the runtime's defaults.
/// </summary>
public sealed class PublishedRuntimeTests
{
    public static TheoryData<string, bool, int?, int?, bool> Executables => new()
    {
        { "producer/Pipeline.Edge", false, null, 0, true },
        { "consumers/Pipeline.Consumers.Postgres", true, 1000, 0, false },
        { "consumers/Pipeline.Consumers.Siem", true, 1000, 0, false },
        { "consumers/Pipeline.Consumers.TopK", true, 1000, 0, false },
        { "consumers/Pipeline.Consumers.Files", true, 1000, 0, false },
        { "infra/Pipeline.Ops", true, null, null, true },
    };

    [Theory]
    [MemberData(nameof(Executables))]
    public void ThePublishedAssemblyIsPrecompiledAndItsRuntimeConfigSetsTieringAndCollectionAsDocumented(string project, bool tieredPgo, int? callCountThreshold,
        int? spinLimit, bool concurrentGc)
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
        // Absent: the runtime's default of 30 calls.
        int? threshold = properties.TryGetProperty("System.Runtime.TieredCompilation.CallCountThreshold", out var value) ? value.GetInt32() : null;
        Assert.Equal(callCountThreshold, threshold);
        // Absent: the runtime's default spinning.
        int? spin = properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var limit) ? limit.GetInt32() : null;
        Assert.Equal(spinLimit, spin);
        Assert.Equal(concurrentGc, properties.GetProperty("System.GC.Concurrent").GetBoolean());
    }
}
