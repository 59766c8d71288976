using Pipeline.Ops.Cli;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>What one run of an operator command printed and returned.</summary>
internal sealed record OpsResult(int ExitCode, string Out, string Error)
{
    public IReadOnlyList<string> Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs the operator commands in the test process, exactly as <c>Pipeline.Ops</c> parses them, with the
/// seams a test chooses (the embedded cluster's topic creation, a fake time index).
/// </summary>
internal static class OpsTool
{
    public static Task<OpsResult> RunAsync(OpsSeams? seams, params string[] args) => RunAsync(seams, new StringWriter(), args);

    /// <summary>Runs a command whose stderr the caller can watch while it runs (a <see cref="LineWatch"/>).</summary>
    public static async Task<OpsResult> RunAsync(OpsSeams? seams, StringWriter error, params string[] args)
    {
        using var output = new StringWriter();
        using (error)
        {
            var code = await OpsCommandLine.RunAsync(args, seams ?? new OpsSeams(), output, error);
            return new OpsResult(code, output.ToString(), error.ToString());
        }
    }

    public static Task<OpsResult> RunAsync(params string[] args) => RunAsync(null, args);
}

/// <summary>A writer that completes <see cref="Seen"/> once a line containing <c>needle</c> is written to it.</summary>
internal sealed class LineWatch(string needle) : StringWriter
{
    private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Seen => _seen.Task;

    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        if (value?.Contains(needle, StringComparison.Ordinal) == true) _seen.TrySetResult();
    }
}
