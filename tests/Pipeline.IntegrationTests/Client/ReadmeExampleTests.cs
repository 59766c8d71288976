using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Client;

/// <summary>The Pipeline.Client example in docs/send.md, packed, built and run exactly as a user would, against an edge.</summary>
public sealed partial class ReadmeExampleTests
{
    [GeneratedRegex(@"<!-- example: pipeline-client -->\s*```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex ExampleBlock();

    [Fact]
    public async Task TheDocumentedPipelineClientExampleBuildsFromThePackageAndItsEventsArrive()
    {
        var page = await File.ReadAllTextAsync(Repository.Path_("docs", "send.md"));
        var code = ExampleBlock().Match(page) is { Success: true } match ? match.Groups["code"].Value : throw new InvalidOperationException("no example block in docs/send.md");
        Assert.True(code.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 12, "the example stays about ten lines");

        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        var work = Directory.CreateTempSubdirectory("client-example-");
        try
        {
            var packages = Path.Combine(work.FullName, "packages");
            var version = $"1.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
            await Peers.RunAsync("dotnet", ["pack", Repository.Path_("producer", "Pipeline.Client"), "-c", Repository.Configuration, "-o", packages,
                $"-p:Version={version}", "--nologo", "-v:quiet"], timeout: TimeSpan.FromMinutes(5));

            // A project of the user's own, outside the repository: the package from the folder just packed, everything
            // else from the machine's package folder (no network), restored into a folder of its own.
            var project = Path.Combine(work.FullName, "example");
            Directory.CreateDirectory(project);
            var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            await File.WriteAllTextAsync(Path.Combine(project, "example.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <RestorePackagesPath>{Path.Combine(work.FullName, "restored")}</RestorePackagesPath>
                    <RestoreAdditionalProjectFallbackFolders>{globalPackages}</RestoreAdditionalProjectFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Pipeline.Client" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(project, "nuget.config"), $"""
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="packed" value="{packages}" />
                  </packageSources>
                </configuration>
                """);
            await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), code.Replace("http://127.0.0.1:8080", edge.HttpUrl, StringComparison.Ordinal));

            await Peers.RunAsync("dotnet", ["run", "--project", project, "-c", "Release"], timeout: TimeSpan.FromMinutes(5));
        }
        finally
        {
            work.Delete(recursive: true);
        }

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 2, TimeSpan.FromSeconds(30));
        var metrics = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "metrics", 2, TimeSpan.FromSeconds(30));
        Assert.Contains(events, e => e.Kind == "log" && e.Message == "Converted report.pdf into 19 pages");
        var pages = Assert.Single(events, e => e.Kind == "event").Payload!.Value;
        Assert.Equal(("example.profile.pages", 19), (pages.GetProperty("dataset").GetString(), pages.GetProperty("fields").GetProperty("page_count").GetInt32()));
        Assert.Equal(["pdf_pages", "profile_image_convert_time"], metrics.Select(m => m.Metric!.Name).Order());
        Assert.All(events.Concat(metrics), e => Assert.Equal("pdf-service", e.Payload!.Value.GetProperty("app").GetString()));
    }
}
