using System.Security.Cryptography;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Kafka;

namespace Pipeline.IntegrationTests.Kafka;

public sealed class NativeLibraryTests
{
    // The one version the product, its own binding (shared/Pipeline.Kafka/Native) and Directory.Packages.props agree on.
    private const string Pinned = "2.16.0";

    [Fact]
    public void ConfluentKafkaAndThePipelinesOwnBindingBothLoadTheOfficialLibrdkafka2_16_0()
    {
        Assert.Equal(Pinned, Confluent.Kafka.Library.VersionString);
        Assert.Equal(Pinned, KafkaNative.Version);
        Assert.Equal(Pinned, KafkaNative.BindingWrittenFor);
    }

    [Fact]
    public void TheLoadedLibraryIsByteForByteOneOfTheBuildsTheOfficialLibrdkafkaRedistPackageShips()
    {
        var loaded = KafkaNative.LoadedFrom;
        var package = Path.Combine(NuGetPackagesFolder(), "librdkafka.redist", Pinned, "runtimes", "linux-x64", "native");
        Assert.True(Directory.Exists(package), $"the official package is not in the global packages folder: {package}");
        var shipped = Directory.GetFiles(package, "*librdkafka.so").ToDictionary(file => Path.GetFileName(file), Hash);
        Assert.True(shipped.TryGetValue(Path.GetFileName(loaded), out var expected), $"{loaded} is not a file the package ships ({string.Join(", ", shipped.Keys)})");
        Assert.Equal(expected, Hash(loaded));
    }

    [Fact]
    public void EveryProjectPinsConfluentKafkaAndLibrdkafkaRedistToTheSameVersion()
    {
        var props = File.ReadAllText(Path.Combine(Repository.Root, "Directory.Packages.props"));
        Assert.Contains($"<PackageVersion Include=\"Confluent.Kafka\" Version=\"[{Pinned}]\" />", props, StringComparison.Ordinal);
        Assert.Contains($"<PackageVersion Include=\"librdkafka.redist\" Version=\"[{Pinned}]\" />", props, StringComparison.Ordinal);
        var config = File.ReadAllText(Path.Combine(Repository.Root, "nuget.config"));
        Assert.DoesNotContain("packageSourceMapping", config, StringComparison.Ordinal);
    }

    private static string NuGetPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
