using Pipeline.Core.Hosting;
using Pipeline.Edge;
using Pipeline.Kafka.Native;

// Before any thread that allocates much exists (see MallocArenas).
MallocArenas.Limit(2);

// pipeline-edge [serve] [options]   receive telemetry and publish it to Kafka (default)
// pipeline-edge parse               read syslog lines on stdin, write one envelope per line on stdout
if (args.Length > 0 && args[0] == "parse")
    return ParseCommand.Run(Console.OpenStandardInput(), Console.OpenStandardOutput());

var serve = args.Length > 0 && args[0] == "serve" ? args[1..] : args;
if (ExecutableCommandLine.Check("pipeline-edge", EdgeHost.Summary, serve, EdgeHost.Switches, Console.Out, Console.Error) is { } exit)
    return exit;

return await StartupErrors.RunAsync("pipeline-edge", async () =>
{
    var app = EdgeHost.Build(serve);
    await app.RunAsync();
    return 0;
});
