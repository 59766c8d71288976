using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Forwarding;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Core.Hosting;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;

// The security team's sink: the whole stream into a tamper-evident archive, exactly once; forwarded to
// SIEMs from there, at least once; detection rules raise alerts.
//   Pipeline.Consumers.Siem [options]              run (group sec_team)
//   Pipeline.Consumers.Siem verify <archive-dir>   check an archive; exit 0 intact, 1 altered, 2 cannot check
if (args.Length > 0 && args[0] == "verify")
    return ArchiveVerifier.Run(args[1..], Console.Out, Console.Error);

return await ConsumerHost.RunAsync("pipeline-siem", args, new ConsumerDefaults("sec_team", "127.0.0.1:9102")
{
    Summary = "The security team's sink: the whole stream into a tamper-evident archive, exactly once; forwarded to SIEMs; detection rules raise alerts. `verify <archive-dir>` checks an archive (exit 0 intact, 1 altered, 2 cannot check).",
}, builder =>
{
    var options = builder.Configuration.GetSection(SiemOptions.Section).Get<SiemOptions>() ?? new SiemOptions();
    options.Validate();
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton(options.Archive);
    builder.Services.AddSingleton<SiemMetrics>();
    builder.Services.AddSingleton(sp => ArchiveWriter.Open(options.Archive, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<SiemMetrics>(),
        sp.GetRequiredService<ILogger<ArchiveWriter>>()));
    builder.Services.AddSingleton(sp =>
    {
        if (options.Classification.Count == 0) SiemLog.NoClassificationRules(sp.GetRequiredService<ILogger<EcsNormaliser>>());
        return new EcsNormaliser(new Classifier(options.Classification));
    });
    builder.Services.AddSingleton(_ => new DetectionEngine(options.Detection));
    builder.Services.AddSingleton<SiemSink>();
    builder.Services.AddSingleton<IBatchSink>(sp => sp.GetRequiredService<SiemSink>());
    builder.Services.AddHostedService<SegmentRoller>();

    var titles = options.Classification.ToDictionary(c => c.Name, c => c.Title ?? c.Name, StringComparer.Ordinal);
    for (var i = 0; i < options.Forwarders.Count; i++)
    {
        var forwarder = options.Forwarders[i];
        var name = forwarder.EffectiveName(i);
        builder.Services.AddSingleton<IHostedService>(sp =>
        {
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Pipeline.Consumers.Siem.Forward." + name);
            var metrics = sp.GetRequiredService<SiemMetrics>();
            var time = sp.GetRequiredService<TimeProvider>();
            IForwardDestination destination = forwarder.Type == ForwarderOptions.Hec
                ? new HecDestination(forwarder, name, time, metrics, log)
                : new CefSyslogDestination(forwarder, name, titles, log);
            return new ArchiveForwarder(name, forwarder.Include, forwarder.BatchSize, forwarder.RetryInitialBackoff, forwarder.RetryMaxBackoff,
                destination, sp.GetRequiredService<ArchiveWriter>(), metrics,
                sp.GetRequiredService<HealthState>(), time, log);
        });
    }
    if (options.Alerts.Publish)
    {
        builder.Services.AddSingleton<IHostedService>(sp =>
        {
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Pipeline.Consumers.Siem.Forward." + AlertOptions.CursorName);
            var destination = new KafkaAlertDestination(sp.GetRequiredService<KafkaOptions>(), options.Alerts.Topic, sp.GetRequiredService<ConsumerOptions>().Group);
            return new ArchiveForwarder(AlertOptions.CursorName, "alerts", 500, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30),
                destination, sp.GetRequiredService<ArchiveWriter>(), sp.GetRequiredService<SiemMetrics>(),
                sp.GetRequiredService<HealthState>(), sp.GetRequiredService<TimeProvider>(), log);
        });
    }
}, [
    new("--archive", "Siem:Archive:Directory", "Folder of the archive's segments", new ArchiveOptions().Directory),
    new("--segment-max-bytes", "Siem:Archive:SegmentMaxBytes", "Size at which a segment is sealed", new ArchiveOptions().SegmentMaxBytes.ToString(CultureInfo.InvariantCulture)),
    new("--segment-max-age", "Siem:Archive:SegmentMaxAge", "Age at which a segment is sealed", new ArchiveOptions().SegmentMaxAge.ToString("c", CultureInfo.InvariantCulture)),
]);
