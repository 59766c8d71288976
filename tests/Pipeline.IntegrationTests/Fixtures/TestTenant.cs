using Microsoft.Extensions.Logging;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>One tenant with a token, for tests of authenticated ingest: the edge's arguments and what senders present.</summary>
internal static class TestTenant
{
    public const string Name = "acme";
    public const string Token = "s3cret-acme";

    /// <summary>Edge arguments: tokens required, <see cref="Token"/> standing for <see cref="Name"/>.</summary>
    public static readonly string[] EdgeArgs =
    [
        "--Edge:Http:AllowAnonymous=false", $"--Edge:Http:Tokens:0:Tenant={Name}", $"--Edge:Http:Tokens:0:Token={Token}",
    ];
}

/// <summary>Log entries the tests' applications write (source-generated, as applications should).</summary>
internal static partial class ShopLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} failed after {Attempts} attempts")]
    public static partial void OrderFailed(ILogger logger, int orderId, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "request {N} handled")]
    public static partial void Handled(ILogger logger, int n);

    [LoggerMessage(Level = LogLevel.Information, Message = "plain {Word}")]
    public static partial void Plain(ILogger logger, string word);
}
