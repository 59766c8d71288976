using Microsoft.Extensions.Logging;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>Every log line of the scrape source. A target's failures are logged when its state changes, not at every scrape.</summary>
internal static partial class ScrapeLog
{
    [LoggerMessage(301, LogLevel.Information, "Scraping {Count} targets ({Added} added, {Removed} removed)")]
    public static partial void TargetsChanged(ILogger logger, int count, int added, int removed);

    [LoggerMessage(302, LogLevel.Warning, "Scrape of {Target} ({Url}) failed ({Reason}): {Detail}; counted in edge_scrape_errors_total until it recovers")]
    public static partial void TargetDown(ILogger logger, string target, string url, string reason, string detail);

    [LoggerMessage(303, LogLevel.Information, "Scrape of {Target} ({Url}) succeeds again: {Samples} samples")]
    public static partial void TargetUp(ILogger logger, string target, string url, int samples);

    [LoggerMessage(304, LogLevel.Debug, "Scrape of {Target} failed again ({Reason}): {Detail}")]
    public static partial void StillDown(ILogger logger, string target, string reason, string detail);

    [LoggerMessage(305, LogLevel.Warning, "{Detail}; its last good targets are kept")]
    public static partial void TargetFileFailed(ILogger logger, string detail);

    [LoggerMessage(306, LogLevel.Error, "Scrape loop of {Target} failed; it goes on at the next interval")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string target);

    [LoggerMessage(307, LogLevel.Error, "Target discovery failed; retrying")]
    public static partial void DiscoveryFailed(ILogger logger, Exception exception);
}
