using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Starts the NOC sink and the generic Files sink as their own processes, as in production.</summary>
internal static class NocConsumers
{
    public const string NocProject = "consumers/Pipeline.Consumers.Postgres";
    public const string FilesProject = "consumers/Pipeline.Consumers.Files";

    /// <summary>
    /// The NOC sink on <paramref name="topic"/>. A short session (6 s) lets a killed member's partitions move
    /// quickly; the drain timeout stays below it, as the runtime requires.
    /// </summary>
    public static Task<PipelineProcess> StartNocAsync(PipelineUnderTest pipeline, string connectionString, string group, string topic,
        IEnumerable<string>? extra = null, bool waitHealthy = true) =>
        pipeline.StartConsumerAsync(NocProject,
            ["--postgres", connectionString, "--group", group, "--topics", topic, "--from", "earliest", "--batch-size", "2000", "--batch-wait", "00:00:01",
             "--Consumer:SessionTimeout=00:00:06", "--Consumer:DrainTimeout=00:00:04", .. extra ?? []],
            waitHealthy: waitHealthy);

    /// <summary>The NOC sink configured through environment variables only (as a container would be), plus <paramref name="args"/>.</summary>
    public static Task<PipelineProcess> StartNocFromEnvironmentAsync(PipelineUnderTest pipeline, IDictionary<string, string> environment, IEnumerable<string>? args = null) =>
        pipeline.StartConsumerAsync(NocProject, args ?? [], environment);

    public static Task<PipelineProcess> StartFilesAsync(PipelineUnderTest pipeline, string directory, string group, string topic) =>
        pipeline.StartConsumerAsync(FilesProject,
            ["--output", directory, "--group", group, "--topics", topic, "--from", "earliest", "--batch-size", "2000", "--batch-wait", "00:00:01"]);

    /// <summary>Waits until the table holds <paramref name="expected"/> rows of the topic (and never more).</summary>
    public static Task WaitForRowsAsync(TemporaryDatabase db, string topic, long expected, TimeSpan timeout, PipelineProcess? process = null) =>
        Eventually.Until(async () =>
        {
            if (process is { HasExited: true }) throw new InvalidOperationException($"{process.Name} exited with {process.ExitCode}:\n{process.Output}");
            return await RowsAsync(db, topic);
        }, n => n >= expected, timeout, $"{expected} rows of {topic}", TimeSpan.FromMilliseconds(500));

    public static async Task<long> RowsAsync(TemporaryDatabase db, string topic)
    {
        try
        {
            return await db.ScalarAsync<long>("select count(*) from events where topic = @topic", new { topic });
        }
        catch (Npgsql.PostgresException ex) when (ex.SqlState == Npgsql.PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }
}
