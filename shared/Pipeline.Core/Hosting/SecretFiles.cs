using Microsoft.Extensions.Configuration;

namespace Pipeline.Core.Hosting;

/// <summary>
/// Settings read from files, one file per setting, named by the setting's key with <c>__</c> for <c>:</c> — the way
/// Docker and Kubernetes hand secrets to a container (e.g. <c>/run/secrets/Kafka__Properties__sasl.password</c>).
/// The directory is the one <c>PIPELINE_SECRETS_DIR</c> names; unset, none is read. A value from a file wins over
/// appsettings.json and the environment; the command line still wins over it. Values are never logged.
/// </summary>
public static class SecretFiles
{
    public const string Variable = "PIPELINE_SECRETS_DIR";

    /// <summary>The directory of secret files, or null when <c>PIPELINE_SECRETS_DIR</c> is not set.</summary>
    public static string? Directory()
    {
        var directory = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(directory)) return null;
        if (!System.IO.Directory.Exists(directory)) throw new ArgumentException($"{Variable} '{directory}' is not a directory");
        return Path.GetFullPath(directory);
    }

    /// <summary>Adds the secret files as a configuration source (nothing when <c>PIPELINE_SECRETS_DIR</c> is not set).</summary>
    public static IConfigurationBuilder AddSecretFiles(this IConfigurationBuilder configuration) =>
        Directory() is { } directory ? configuration.AddKeyPerFile(directory, optional: false) : configuration;

    /// <summary>
    /// For tools that read settings from the environment themselves: the secret files whose names start with
    /// <paramref name="prefix"/> (e.g. <c>Kafka__Properties__</c>), by the rest of the name, each file's content without its final line break.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> WithPrefix(string prefix)
    {
        if (Directory() is not { } directory) yield break;
        foreach (var file in System.IO.Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
                yield return new(name[prefix.Length..], File.ReadAllText(file).TrimEnd('\r', '\n'));
        }
    }
}
