using Pipeline.Core.Hosting;

namespace Pipeline.UnitTests.Core;

public sealed class JemallocPreloadTests
{
    [Fact]
    public void TheInstalledLibraryIsPreloadedUnlessTheEnvironmentAlreadySaysWhatToPreload()
    {
        // setup.sh installs libjemalloc2 on every machine the tests run on.
        var installed = JemallocPreload.Find();
        Assert.NotNull(installed);
        Assert.EndsWith("libjemalloc.so.2", installed, StringComparison.Ordinal);

        var plain = new Dictionary<string, string> { ["Kafka__BootstrapServers"] = "127.0.0.1:9092" };
        JemallocPreload.AddTo(plain);
        var glibc = new Dictionary<string, string> { [JemallocPreload.Variable] = "" };
        JemallocPreload.AddTo(glibc);
        var own = new Dictionary<string, string> { [JemallocPreload.Variable] = "/opt/own/libtcmalloc.so" };
        JemallocPreload.AddTo(own);

        // This test process runs without a preload of its own (else AddTo keeps the child's inherited one).
        Assert.Null(Environment.GetEnvironmentVariable(JemallocPreload.Variable));
        Assert.Null(Environment.GetEnvironmentVariable(JemallocPreload.SettingsVariable));
        Assert.Equal(installed, plain[JemallocPreload.Variable]);
        Assert.Equal("tcache_max:131072", plain[JemallocPreload.SettingsVariable]);
        Assert.Equal("", glibc[JemallocPreload.Variable]);
        Assert.False(glibc.ContainsKey(JemallocPreload.SettingsVariable));
        Assert.Equal("/opt/own/libtcmalloc.so", own[JemallocPreload.Variable]);
        Assert.False(own.ContainsKey(JemallocPreload.SettingsVariable));

        var tuned = new Dictionary<string, string> { [JemallocPreload.SettingsVariable] = "narenas:2" };
        JemallocPreload.AddTo(tuned);
        Assert.Equal(installed, tuned[JemallocPreload.Variable]);
        Assert.Equal("narenas:2", tuned[JemallocPreload.SettingsVariable]);
    }
}
