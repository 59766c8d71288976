using System.Reflection;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Paths in the repository the tests run from, and the built executables in it.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration these tests were built with; the executables are built alike.</summary>
    public static string Configuration { get; } =
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>
    /// The main assembly of an executable project (e.g. <c>producer/Pipeline.Edge</c>) as the build published it,
    /// ReadyToRun (Directory.Build.targets): the tests run what production runs.
    /// </summary>
    public static string Executable(string projectFolder)
    {
        var name = Path.GetFileName(projectFolder);
        var path = Path.Combine(Root, projectFolder, "bin", Configuration, "net10.0", "linux-x64", "publish", name + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built; build Pipeline.sln first", path);
    }

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }
}
