using System.CommandLine;
using System.Runtime.InteropServices;
using Pipeline.Kafka.Embedded;

namespace Pipeline.Ops.Local;

/// <summary>
/// <c>embedded-kafka</c>: only the embedded Kafka cluster of <c>local</c>, in the foreground until Ctrl-C or
/// SIGTERM, for running anything against it by its bootstrap servers as against any Kafka: a worker started by
/// hand, kcat, or the integration tests' external mode (<c>PIPELINE_TEST_KAFKA=host:port</c>, which CI runs
/// against this command). It prints the bootstrap servers and, with <c>--bootstrap-file</c>, writes them to that
/// file once the brokers listen (so a script can wait for the file).
/// </summary>
internal static class EmbeddedKafkaCommand
{
    public static Command Build()
    {
        var brokers = new Option<int>("--brokers") { Description = "Embedded Kafka brokers.", DefaultValueFactory = _ => 3 };
        var file = new Option<string?>("--bootstrap-file") { Description = "Also write the bootstrap servers to this file when the brokers listen." };
        var command = new Command("embedded-kafka",
            "Run only an embedded Kafka cluster (in memory, librdkafka's mock: no admin API, no lookup by time, 5 MiB per partition) until Ctrl-C.")
        {
            brokers, file,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(brokers), parse.GetValue(file), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int brokers, string? bootstrapFile, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var kafka = EmbeddedKafkaCluster.Start(brokers);
        // As docker compose runs Kafka: a new group is assigned at once.
        kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        Console.WriteLine($"[embedded-kafka] {brokers} broker(s) at {kafka.BootstrapServers} (Ctrl-C stops them; everything they hold is gone then)");
        if (bootstrapFile is not null)
        {
            // Written whole under another name and renamed: a reader never sees half a line.
            var partial = bootstrapFile + ".partial";
            await File.WriteAllTextAsync(partial, kafka.BootstrapServers + "\n", CancellationToken.None);
            File.Move(partial, bootstrapFile, overwrite: true);
        }
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        if (bootstrapFile is not null) File.Delete(bootstrapFile);
        return 0;
    }
}
