using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Pipeline.Consumers.Files;
using Pipeline.Kafka.Consuming;

// The generic sink a new team starts with: the whole stream as jsonl, to stdout or rotated files.
// Adding a team is starting this with a new group id: --group new_team.
return await ConsumerHost.RunAsync("pipeline-files", args, new ConsumerDefaults("files", "127.0.0.1:9104")
{
    Summary = "The jsonl sink a new team starts with: the whole stream as one JSON line per event, to stdout or rotated files.",
}, builder =>
{
    var options = builder.Configuration.GetSection(FilesOptions.Section).Get<FilesOptions>() ?? new FilesOptions();
    options.Validate();
    // Events own stdout in stdout mode: the logs move to stderr.
    if (options.ToStdout) builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton<IBatchSink>(sp => new FilesSink(options, sp.GetRequiredService<ConsumerOptions>().Group, sp.GetRequiredService<TimeProvider>()));
}, [
    new("--output", "Files:Output", "stdout, or a folder for <group>.jsonl files rotated by size", new FilesOptions().Output),
    new("--max-file-bytes", "Files:MaxFileBytes", "Size at which a file is rotated", new FilesOptions().MaxFileBytes.ToString(CultureInfo.InvariantCulture)),
]);
