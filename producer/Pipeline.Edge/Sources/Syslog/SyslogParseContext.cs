using System.Net;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>What the parser needs besides the line: when and from where it arrived, and how to read local times.</summary>
public readonly record struct SyslogParseContext(DateTimeOffset ReceivedAt, IPAddress? SourceIp, ITimeZoneResolver TimeZones);

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
