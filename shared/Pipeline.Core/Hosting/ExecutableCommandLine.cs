using System.CommandLine;

namespace Pipeline.Core.Hosting;

/// <summary>A named command-line option of an executable and the setting it sets.</summary>
/// <param name="Name">The option, e.g. <c>--kafka</c>.</param>
/// <param name="Setting">The configuration key it sets, e.g. <c>Kafka:BootstrapServers</c>.</param>
/// <param name="Description">What it is, in a few words.</param>
/// <param name="Default">The value when it is not given anywhere (null: none, or explained in the description).</param>
public sealed record CommandLineSwitch(string Name, string Setting, string Description, string? Default = null);

/// <summary>
/// The one command-line style of every executable: named options (System.CommandLine), each mapped to a setting,
/// and any setting as <c>--Section:Key=value</c>. <c>--help</c> lists every option with its setting and default;
/// an option nobody knows, or one without its value, ends the run with one line and exit code 2 — the same as a
/// configuration error found later (<see cref="StartupErrors"/>). Values reach the configuration through
/// <see cref="Mappings"/> (the host's command-line configuration source), so precedence stays: command line,
/// then secret files, environment, appsettings.json.
/// </summary>
public static class ExecutableCommandLine
{
    private const string SettingsNote = " Any setting can also be given as --Section:Key=value, in appsettings.json, or as the environment variable Section__Key.";

    /// <summary>
    /// Checks <paramref name="args"/>: after <c>--help</c> (or <c>--version</c>) the exit code of printing it; after a
    /// bad command line, <see cref="StartupErrors.ConfigurationError"/> with one line on <paramref name="error"/>;
    /// null when the executable should run.
    /// </summary>
    public static int? Check(string program, string summary, string[] args, IReadOnlyList<CommandLineSwitch> switches, TextWriter output, TextWriter error)
    {
        var root = new RootCommand(summary + SettingsNote) { TreatUnmatchedTokensAsErrors = false };
        foreach (var option in switches)
        {
            var defaults = option.Default is null ? "" : $"; default {option.Default}";
            // Given more than once, the last one wins (as in the configuration it feeds): scripts add overrides after defaults.
            root.Options.Add(new Option<string[]>(option.Name)
            {
                Description = $"{option.Description} (setting {option.Setting}{defaults})",
                HelpName = "value",
                Arity = ArgumentArity.OneOrMore,
                AllowMultipleArgumentsPerToken = false,
            });
        }
        var parse = root.Parse(args);
        string? problem = parse.Errors.Count > 0 ? parse.Errors[0].Message : UnknownOption(parse.UnmatchedTokens);
        if (problem is not null)
        {
            error.WriteLine($"{program}: configuration error: {problem} (--help lists the options)");
            return StartupErrors.ConfigurationError;
        }
        // With no action of its own, the root has one only when --help or --version was asked for.
        return parse.Action is null ? null : parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>The switch table as the host's command-line configuration source takes it.</summary>
    public static Dictionary<string, string> Mappings(IEnumerable<CommandLineSwitch> switches) =>
        switches.ToDictionary(s => s.Name, s => s.Setting, StringComparer.Ordinal);

    /// <summary>Tokens no option took: only settings (<c>--Section:Key</c>) and their values may be among them.</summary>
    private static string? UnknownOption(IReadOnlyList<string> unmatched)
    {
        foreach (var token in unmatched)
        {
            if (!token.StartsWith('-')) continue;
            var name = token.TrimStart('-').Split('=', 2)[0];
            if (!name.Contains(':') || name.StartsWith(':')) return $"unknown option '{token}'";
        }
        return null;
    }
}
