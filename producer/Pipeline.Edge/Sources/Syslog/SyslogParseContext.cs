using System.Net;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>What the parser needs besides the line: when and from where it arrived, and how to read local times.</summary>
public readonly record struct SyslogParseContext(DateTimeOffset ReceivedAt, IPAddress? SourceIp, ITimeZoneResolver TimeZones)
{
    /// <summary>RFC 3164 dates carry no year: one more than this ahead of <see cref="ReceivedAt"/> is last year's. Default 31 days.</summary>
    public TimeSpan FutureDateWindow { get; init; } = SyslogTimeZoneOptions.DefaultFutureDateWindow;

    /// <summary>The transport cut the line at its size limit; the message is then Partial (<see cref="SyslogParseErrors.Truncated"/>).</summary>
    public bool Truncated { get; init; }
}

/// <summary>Says which time zone an RFC 3164 line (which carries none) was written in.</summary>
public interface ITimeZoneResolver
{
    TimeZoneInfo Resolve(IPAddress? sourceIp, ReadOnlySpan<byte> hostname);
}

/// <summary>Every source writes UTC.</summary>
public sealed class UtcTimeZoneResolver : ITimeZoneResolver
{
    public static readonly UtcTimeZoneResolver Instance = new();
    public TimeZoneInfo Resolve(IPAddress? sourceIp, ReadOnlySpan<byte> hostname) => TimeZoneInfo.Utc;
}
