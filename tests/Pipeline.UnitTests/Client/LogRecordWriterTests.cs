using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Client.Encoding;
using Pipeline.Client.Logging;

namespace Pipeline.UnitTests.Client;

public sealed class LogRecordWriterTests
{
    private static readonly ClientIdentity Identity = new("shop", "web-1");
    private static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-11-21T10:00:00.123Z", System.Globalization.CultureInfo.InvariantCulture);

    private static JsonElement Write<TState>(TState state, Func<TState, Exception?, string> formatter, IExternalScopeProvider? scopes = null,
        Exception? exception = null, LogLevel level = LogLevel.Warning)
    {
        var active = new List<object?>();
        scopes?.ForEachScope(static (scope, list) => list.Add(scope), active);
        var writer = EventWriter.ForCurrentThread;
        var w = writer.Begin("log", At, Identity);
        LogRecordWriter.Write(writer, w, "Shop.Orders", level, new EventId(7, "OrderFailed"), state, exception, formatter, active);
        var encoded = writer.End(1 << 20)!.Value;
        try
        {
            return JsonDocument.Parse(encoded.Json).RootElement.Clone();
        }
        finally
        {
            encoded.Release();
        }
    }

    private static readonly IReadOnlyList<KeyValuePair<string, object?>> OrderFailed =
    [
        new("OrderId", 42), new("Amount", 19.5m), new("Tags", new[] { "eu", "card" }), new("{OriginalFormat}", "Order {OrderId} failed"),
    ];

    [Fact]
    public void AnEntryCarriesItsLevelCategoryMessageTemplateAndStructuredStateAsFields()
    {
        var e = Write(OrderFailed, (_, _) => "Order 42 failed");

        Assert.Equal(26, e.GetProperty("id").GetString()!.Length);
        Assert.Equal(("log", "shop", "web-1"), (e.GetProperty("kind").GetString(), e.GetProperty("app").GetString(), e.GetProperty("host").GetString()));
        Assert.Equal(("warning", "Shop.Orders"), (e.GetProperty("level").GetString(), e.GetProperty("category").GetString()));
        Assert.Equal((7, "OrderFailed"), (e.GetProperty("event_id").GetInt32(), e.GetProperty("event_name").GetString()));
        Assert.Equal(("Order 42 failed", "Order {OrderId} failed"), (e.GetProperty("message").GetString(), e.GetProperty("message_template").GetString()));
        Assert.Equal("2026-11-21T10:00:00.123+00:00", e.GetProperty("time").GetString());
        var fields = e.GetProperty("fields");
        Assert.Equal("""{"OrderId":42,"Amount":19.5,"Tags":["eu","card"]}""", fields.GetRawText());
    }

    [Fact]
    public void ScopesBecomeFieldsTheInnermostWinningAndTextScopesAreKeptAsText()
    {
        var scopes = new LoggerExternalScopeProvider();
        using (scopes.Push(new Dictionary<string, object?> { ["RequestId"] = "outer", ["Tenant"] = "acme" }))
        using (scopes.Push("checkout flow"))
        using (scopes.Push(new Dictionary<string, object?> { ["RequestId"] = "inner", ["OrderId"] = "from a scope" }))
        {
            var e = Write(OrderFailed, (_, _) => "Order 42 failed", scopes);
            var fields = e.GetProperty("fields");
            Assert.Equal(42, fields.GetProperty("OrderId").GetInt32());
            Assert.Equal("inner", fields.GetProperty("RequestId").GetString());
            Assert.Equal("acme", fields.GetProperty("Tenant").GetString());
            Assert.Equal(["checkout flow"], e.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        }
    }

    [Fact]
    public void AnExceptionIsKeptWithItsTypeMessageAndStack()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("card declined");
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }
        var e = Write("plain state", (s, _) => s, exception: thrown, level: LogLevel.Critical);

        Assert.Equal("critical", e.GetProperty("level").GetString());
        var exception = e.GetProperty("exception");
        Assert.Equal(("System.InvalidOperationException", "card declined"), (exception.GetProperty("type").GetString(), exception.GetProperty("message").GetString()));
        Assert.Contains(nameof(AnExceptionIsKeptWithItsTypeMessageAndStack), exception.GetProperty("detail").GetString());
        Assert.Equal("{}", e.GetProperty("fields").GetRawText());
    }

    [Fact]
    public void ValuesJsonCannotHoldAreWrittenAsTextAndNestingIsBounded()
    {
        object deep = "bottom";
        for (var i = 0; i < 10; i++) deep = new List<object> { deep };
        IReadOnlyList<KeyValuePair<string, object?>> state =
        [
            new("NotANumber", double.NaN), new("When", TimeSpan.FromSeconds(90)), new("Level", LogLevel.Error), new("Deep", deep),
            new("Id", Guid.Empty), new("Raw", new byte[] { 1, 2, 3 }),
        ];
        var fields = Write(state, (_, _) => "m").GetProperty("fields");

        Assert.Equal("NaN", fields.GetProperty("NotANumber").GetString());
        Assert.Equal("00:01:30", fields.GetProperty("When").GetString());
        Assert.Equal("Error", fields.GetProperty("Level").GetString());
        Assert.Equal("AQID", fields.GetProperty("Raw").GetString());
        Assert.Contains("System.Collections.Generic.List", fields.GetProperty("Deep")[0][0][0][0].GetString());
    }
}
