using DotNet.Testcontainers.Configurations;
using Testcontainers.Kafka;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Which Kafka the integration tests run against.</summary>
internal enum KafkaBackendKind
{
    /// <summary>A fresh embedded cluster (librdkafka's mock) per test, in the test process: fault injection works.</summary>
    Embedded,

    /// <summary>A running Kafka named by its bootstrap servers, shared by every test of the run.</summary>
    External,

    /// <summary>Apache Kafka in a container Testcontainers starts once for the run, shared likewise.</summary>
    Testcontainers,
}

/// <summary>
/// The Kafka backend of this test run, from <c>PIPELINE_TEST_KAFKA</c>: unset (or <c>embedded</c>) → the embedded
/// cluster; <c>host:port[,host:port…]</c> → that Kafka; <c>testcontainers</c> → Apache Kafka started by
/// Testcontainers.Kafka when a Docker engine answers. A backend that is not there makes every test that needs
/// Kafka report skipped with the reason (<see cref="KafkaFactAttribute"/>); tests that need the embedded
/// cluster's fault injection report skipped on any other backend (<see cref="EmbeddedKafkaFactAttribute"/>).
/// </summary>
internal static class KafkaBackend
{
    public const string Variable = "PIPELINE_TEST_KAFKA";

    /// <summary>The image docker-compose.yml runs, so a test run and a deployment meet the same Kafka.</summary>
    public const string KafkaImage = "apache/kafka:3.9.1";

    private static readonly string? Setting = Environment.GetEnvironmentVariable(Variable)?.Trim() is { Length: > 0 } value ? value : null;
    private static readonly Lazy<string> SharedBootstrap = new(StartShared, LazyThreadSafetyMode.ExecutionAndPublication);
    private static KafkaContainer? _container;

    public static KafkaBackendKind Kind { get; } = Setting switch
    {
        null or "embedded" => KafkaBackendKind.Embedded,
        "testcontainers" => KafkaBackendKind.Testcontainers,
        _ => KafkaBackendKind.External,
    };

    /// <summary>Null when the chosen backend can be used, else why not (the tests that need it say so as their skip reason).</summary>
    public static string? Unavailable { get; } = Kind switch
    {
        KafkaBackendKind.Testcontainers => DockerProblem(),
        KafkaBackendKind.External when !Setting!.Split(',').All(LooksLikeHostAndPort) =>
            $"{Variable}={Setting} is neither 'embedded', 'testcontainers' nor host:port[,host:port…]",
        _ => null,
    };

    /// <summary>What the run uses, for messages.</summary>
    public static string Description => Kind switch
    {
        KafkaBackendKind.Embedded => "the embedded cluster",
        KafkaBackendKind.External => $"the Kafka at {Setting}",
        _ => $"Apache Kafka ({KafkaImage}) started by Testcontainers",
    };

    /// <summary>Bootstrap servers of the shared Kafka of the non-embedded backends (started on first use).</summary>
    public static string Bootstrap => Kind == KafkaBackendKind.Embedded
        ? throw new InvalidOperationException("the embedded backend gives each test a cluster of its own")
        : SharedBootstrap.Value;

    private static string StartShared()
    {
        if (Unavailable is not null) throw new InvalidOperationException(Unavailable);
        if (Kind == KafkaBackendKind.External) return Setting!;
        _container = new KafkaBuilder(KafkaImage).Build();
        _container.StartAsync().GetAwaiter().GetResult();
        // Testcontainers' reaper removes it too; this stops it as soon as the run ends.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return _container.GetBootstrapAddress();
    }

    /// <summary>Why Testcontainers cannot start a container here (null: a Docker engine answers).</summary>
    private static string? DockerProblem()
    {
        try
        {
            return TestcontainersSettings.OS.DockerEndpointAuthConfig is null
                ? $"{Variable}=testcontainers: no Docker engine is reachable (Testcontainers found no Docker endpoint)"
                : null;
        }
        catch (Exception ex)
        {
            return $"{Variable}=testcontainers: no Docker engine is reachable ({ex.GetBaseException().Message})";
        }
    }

    private static bool LooksLikeHostAndPort(string server)
    {
        var colon = server.LastIndexOf(':');
        return colon > 0 && int.TryParse(server.AsSpan(colon + 1), out var port) && port is > 0 and < 65536;
    }
}

/// <summary>
/// A test that needs Kafka and runs on whichever backend <c>PIPELINE_TEST_KAFKA</c> chose; reported skipped, with
/// the reason, when that backend is not available.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KafkaFactAttribute : FactAttribute
{
    public KafkaFactAttribute()
    {
        if (KafkaBackend.Unavailable is { } why) Skip = why;
    }
}

/// <summary>As <see cref="KafkaFactAttribute"/>, for a theory.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KafkaTheoryAttribute : TheoryAttribute
{
    public KafkaTheoryAttribute()
    {
        if (KafkaBackend.Unavailable is { } why) Skip = why;
    }
}

/// <summary>
/// A test that needs the embedded cluster itself — its in-process fault injection (brokers down, injected
/// errors, latency), or what only it does — and so runs only when <c>PIPELINE_TEST_KAFKA</c> chose it; on another
/// backend it reports skipped, saying why.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EmbeddedKafkaFactAttribute : FactAttribute
{
    /// <param name="why">What of the embedded cluster the test needs, e.g. "takes the brokers down".</param>
    public EmbeddedKafkaFactAttribute(string why)
    {
        if (KafkaBackend.Kind != KafkaBackendKind.Embedded)
            Skip = $"needs the embedded cluster ({why}); {KafkaBackend.Variable} chose {KafkaBackend.Description}";
    }
}
