using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Edge.Sources.Http.Otlp;
using Pipeline.Tests.Shared;
using static Pipeline.Tests.Shared.OtlpRequests;

namespace Pipeline.UnitTests.Edge.Otlp;

public sealed class OtlpProtobufLogsTests
{
    internal sealed record Decoded(List<JsonElement> Payloads, List<string?> Messages, List<int> Severities, List<string> Services, List<string> Uids,
        int Rejected, string? FirstRejection);

    internal static Decoded Decode(byte[] request, bool json = false)
    {
        var batch = OtlpLogBatch.Rent();
        if (json) OtlpJsonLogs.Read(request, batch);
        else OtlpProtobufLogs.Read(request, batch);
        var payloads = new List<JsonElement>();
        var messages = new List<string?>();
        foreach (var slot in batch.Records)
        {
            using var document = JsonDocument.Parse(batch.Payload(slot));
            payloads.Add(document.RootElement.Clone());
            var message = batch.Message(slot);
            messages.Add(message.IsEmpty ? null : JsonSerializer.Deserialize<string>(message));
        }
        return new Decoded(payloads, messages, batch.Records.Select(s => s.Severity).ToList(),
            batch.Records.Select(s => Encoding.UTF8.GetString(batch.Text(s.Service))).ToList(),
            batch.Records.Select(s => Encoding.UTF8.GetString(batch.Text(s.Uid))).ToList(), batch.Rejected, batch.FirstRejection);
    }

    [Fact]
    public void ARecordBecomesAPayloadWithItsResourceScopeSeverityBodyAttributesIdsAndTimes()
    {
        var record = Record("order 42 failed", 17, "Error", 1_700_000_000_123_456_789, ("order.id", AnyInt(42)), ("retry", AnyBool(true)))
            .Fixed32(8, 1)
            .Bytes(9, Convert.FromHexString("5B8EFFF798038103D269B633813FC60C"))
            .Bytes(10, Convert.FromHexString("EEE19B7EC3C1B174"))
            .String(12, "order.failed");
        var request = Request(Resource(("service.name", "checkout"), ("host.name", "web-1")), Scope("Checkout.Orders", "2.1"), record);

        var decoded = Decode(request);

        var payload = Assert.Single(decoded.Payloads);
        Assert.Equal("2023-11-14T22:13:20.123456789Z", payload.GetProperty("time").GetString());
        Assert.Equal("2023-11-14T22:13:20.123457789Z", payload.GetProperty("observed_time").GetString());
        Assert.Equal((17, "Error"), (payload.GetProperty("severity_number").GetInt32(), payload.GetProperty("severity_text").GetString()));
        Assert.Equal("order 42 failed", payload.GetProperty("body").GetString());
        Assert.Equal(42, payload.GetProperty("attributes").GetProperty("order.id").GetInt64());
        Assert.True(payload.GetProperty("attributes").GetProperty("retry").GetBoolean());
        Assert.Equal(1, payload.GetProperty("flags").GetInt32());
        Assert.Equal("5b8efff798038103d269b633813fc60c", payload.GetProperty("trace_id").GetString());
        Assert.Equal("eee19b7ec3c1b174", payload.GetProperty("span_id").GetString());
        Assert.Equal("order.failed", payload.GetProperty("event_name").GetString());
        Assert.Equal("checkout", payload.GetProperty("resource").GetProperty("attributes").GetProperty("service.name").GetString());
        Assert.Equal(("Checkout.Orders", "2.1"), (payload.GetProperty("scope").GetProperty("name").GetString(), payload.GetProperty("scope").GetProperty("version").GetString()));
        Assert.Equal("order 42 failed", Assert.Single(decoded.Messages));
        Assert.Equal(3, Assert.Single(decoded.Severities));
        Assert.Equal("checkout", Assert.Single(decoded.Services));
    }

    [Fact]
    public void EveryShapeOfValueIsKeptWithItsNesting()
    {
        var body = AnyMap(
            ("user", AnyMap(("id", AnyInt(-7)), ("roles", AnyArray(AnyString("admin"), AnyString("ops"))))),
            ("ratio", AnyDouble(0.25)),
            ("not_a_number", AnyDouble(double.NaN)),
            ("raw", AnyBytes([1, 2, 3])),
            ("nothing", new ProtoMessage()),
            ("mixed", AnyArray(AnyInt(1), AnyMap(("deep", AnyArray(AnyArray(AnyBool(false))))))));
        var record = new ProtoMessage().Message(5, body).Message(6, KeyValue("payload", AnyMap(("a", AnyMap(("b", AnyString("c")))))));

        var payload = Assert.Single(Decode(Request(Resource(), Scope("s", "1"), record)).Payloads);

        Assert.Equal("""{"user":{"id":-7,"roles":["admin","ops"]},"ratio":0.25,"not_a_number":"NaN","raw":"AQID","nothing":null,"mixed":[1,{"deep":[[false]]}]}""",
            payload.GetProperty("body").GetRawText());
        Assert.Equal("c", payload.GetProperty("attributes").GetProperty("payload").GetProperty("a").GetProperty("b").GetString());
    }

    [Fact]
    public void TheResourceIsKeptEvenWhenItComesAfterTheRecordsAndUnknownFieldsAreSkipped()
    {
        var scopeLogs = new ProtoMessage().Message(2, Record("late resource")).Varint(99, 5).Message(1, Scope("s", "1"));
        var resourceLogs = new ProtoMessage().Message(2, scopeLogs).Fixed32(77, 1).Message(1, Resource(("service.name", "billing"))).String(3, "https://opentelemetry.io/schemas/1.26.0");
        var request = new ProtoMessage().Message(1, resourceLogs).String(42, "a field of a newer OTLP").ToArray();

        var payload = Assert.Single(Decode(request).Payloads);

        Assert.Equal("billing", payload.GetProperty("resource").GetProperty("attributes").GetProperty("service.name").GetString());
        Assert.Equal("https://opentelemetry.io/schemas/1.26.0", payload.GetProperty("resource").GetProperty("schema_url").GetString());
        Assert.Equal("s", payload.GetProperty("scope").GetProperty("name").GetString());
    }

    [Fact]
    public void AStringThatIsNotUtf8OrAValueNestedTooDeepRejectsOnlyItsOwnRecord()
    {
        var badUtf8 = new ProtoMessage().Message(5, new ProtoMessage().Bytes(1, [0x61, 0xFF, 0x62]));
        var deep = AnyString("bottom");
        for (var i = 0; i < OtlpLogBatch.MaxValueDepth + 1; i++) deep = AnyArray(deep);
        var tooDeep = new ProtoMessage().Message(5, deep);

        var decoded = Decode(Request(Resource(), Scope("s", "1"), Record("first"), badUtf8, Record("third"), tooDeep, Record("fifth")));

        Assert.Equal(["first", "third", "fifth"], decoded.Messages);
        Assert.Equal(2, decoded.Rejected);
        Assert.Contains("UTF-8", decoded.FirstRejection);
    }

    [Fact]
    public void AResourceThatCannotBeKeptRejectsItsRecordsAndNoOthers()
    {
        var badResource = new ProtoMessage().Message(1, KeyValue("service.name", new ProtoMessage().Bytes(1, [0xC3, 0x28])));
        var bad = new ProtoMessage().Message(1, badResource)
            .Message(2, new ProtoMessage().Message(2, Record("lost one")).Message(2, Record("lost two")));
        var good = new ProtoMessage().Message(1, Resource(("service.name", "billing"))).Message(2, new ProtoMessage().Message(2, Record("kept")));

        var decoded = Decode(new ProtoMessage().Message(1, bad).Message(1, good).ToArray());

        Assert.Equal(["kept"], decoded.Messages);
        Assert.Equal(2, decoded.Rejected);
        Assert.StartsWith("their resource", decoded.FirstRejection);
    }

    [Fact]
    public void IdsOfTheWrongLengthOrAllZeroesAreLeftOutAsOtlpSays()
    {
        var record = Record("x").Bytes(9, new byte[16]).Bytes(10, [1, 2, 3]);
        var payload = Assert.Single(Decode(Request(Resource(), Scope("s", "1"), record)).Payloads);
        Assert.False(payload.TryGetProperty("trace_id", out _));
        Assert.False(payload.TryGetProperty("span_id", out _));
    }

    [Fact]
    public void ALogRecordUidAttributeIsTheRecordsOwnId()
    {
        var record = Record("x", attributes: ("log.record.uid", AnyString("01ARZ3NDEKTSV4RRFFQ69G5FAV")));
        Assert.Equal("01ARZ3NDEKTSV4RRFFQ69G5FAV", Assert.Single(Decode(Request(Resource(), Scope("s", "1"), record)).Uids));
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x0A })]             // a resource_logs longer than the body
    [InlineData(new byte[] { 0x0B })]                          // a group (wire type 3)
    [InlineData(new byte[] { 0x09, 1, 2, 3 })]                 // resource_logs as fixed64
    [InlineData(new byte[] { 0x0A, 0x02, 0x12, 0x05 })]        // scope_logs longer than its resource_logs
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })] // an 11-byte varint
    public void MalformedProtobufIsAFormatErrorForTheWholeRequest(byte[] body)
    {
        Assert.Throws<OtlpFormatException>(() => Decode(body));
    }

    [Fact]
    public void AnyDamageToARequestEndsInRecordsOrAFormatErrorNeverAnotherException()
    {
        var request = Request(Resource(("service.name", "checkout")), Scope("s", "1"),
            Record("first", attributes: ("nested", AnyMap(("k", AnyArray(AnyInt(1), AnyDouble(2.5)))))), Record("second"));
        var position = Gen.Choose(0, request.Length - 1).ToArbitrary();
        Prop.ForAll(position, position, Gen.Choose(0, 255).ToArbitrary(), (at, cut, value) =>
        {
            var damaged = request.ToArray();
            damaged[at] = (byte)value;
            foreach (var body in new[] { damaged, request[..cut], damaged[..cut] })
            {
                try
                {
                    Decode(body);
                }
                catch (OtlpFormatException)
                {
                }
            }
        }).QuickCheckThrowOnFailure();
    }
}
