using System.Reflection;

namespace Pipeline.Ops;

/// <summary>Where the repository and its built executables are, seen from this tool's own binary.</summary>
internal static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        typeof(RepositoryLayout).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    public static string TopicsFile => Path.Combine(Root, "infra", "kafka", "topics.json");

    /// <summary>
    /// The main assembly of a project folder as the build published it (ReadyToRun, see Directory.Build.targets),
    /// or null when it is not built.
    /// </summary>
    public static string? Executable(string projectFolder)
    {
        var path = Path.Combine(Root, projectFolder, "bin", Configuration, "net10.0", "linux-x64", "publish", Path.GetFileName(projectFolder) + ".dll");
        return File.Exists(path) ? path : null;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
