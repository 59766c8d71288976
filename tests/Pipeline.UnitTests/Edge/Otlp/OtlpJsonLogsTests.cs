using System.Text;
using Pipeline.Edge.Sources.Http.Otlp;
using Pipeline.Tests.Shared;
using static Pipeline.Tests.Shared.OtlpRequests;
using static Pipeline.UnitTests.Edge.Otlp.OtlpProtobufLogsTests;

namespace Pipeline.UnitTests.Edge.Otlp;

public sealed class OtlpJsonLogsTests
{
    private const string Example = """
        {
          "resourceLogs": [{
            "resource": { "attributes": [
              { "key": "service.name", "value": { "stringValue": "checkout" } },
              { "key": "host.name", "value": { "stringValue": "web-1" } } ] },
            "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
            "scopeLogs": [{
              "scope": { "name": "Checkout.Orders", "version": "2.1" },
              "logRecords": [{
                "timeUnixNano": "1700000000123456789",
                "observedTimeUnixNano": 1700000000123457789,
                "severityNumber": 17,
                "severityText": "Error",
                "traceId": "5B8EFFF798038103D269B633813FC60C",
                "spanId": "eee19b7ec3c1b174",
                "flags": 1,
                "eventName": "order.failed",
                "body": { "stringValue": "order 42 failed" },
                "attributes": [
                  { "key": "order.id", "value": { "intValue": "42" } },
                  { "key": "ratio", "value": { "doubleValue": 0.25 } },
                  { "key": "retry", "value": { "boolValue": true } },
                  { "key": "raw", "value": { "bytesValue": "AQID" } },
                  { "key": "user", "value": { "kvlistValue": { "values": [
                    { "key": "roles", "value": { "arrayValue": { "values": [ { "stringValue": "admin" }, { "intValue": 7 } ] } } } ] } } },
                  { "key": "nothing", "value": {} } ],
                "aFieldOfANewerOtlp": { "ignored": true }
              }]
            }]
          }]
        }
        """;

    private static ProtoMessage SameRecordInProtobuf() =>
        Record("order 42 failed", 17, "Error", 1_700_000_000_123_456_789,
                ("order.id", AnyInt(42)), ("ratio", AnyDouble(0.25)), ("retry", AnyBool(true)), ("raw", AnyBytes([1, 2, 3])),
                ("user", AnyMap(("roles", AnyArray(AnyString("admin"), AnyInt(7))))), ("nothing", new ProtoMessage()))
            .Fixed32(8, 1)
            .Bytes(9, Convert.FromHexString("5B8EFFF798038103D269B633813FC60C"))
            .Bytes(10, Convert.FromHexString("EEE19B7EC3C1B174"))
            .String(12, "order.failed");

    [Fact]
    public void TheSameRequestInOtlpJsonAndInProtobufGivesTheSamePayload()
    {
        var resourceLogs = new ProtoMessage()
            .Message(1, Resource(("service.name", "checkout"), ("host.name", "web-1")))
            .Message(2, new ProtoMessage().Message(1, Scope("Checkout.Orders", "2.1")).Message(2, SameRecordInProtobuf()))
            .String(3, "https://opentelemetry.io/schemas/1.26.0");
        var fromProtobuf = Decode(new ProtoMessage().Message(1, resourceLogs).ToArray());

        var fromJson = Decode(Encoding.UTF8.GetBytes(Example), json: true);

        Assert.Equal(Assert.Single(fromProtobuf.Payloads).GetRawText(), Assert.Single(fromJson.Payloads).GetRawText());
        Assert.Equal(fromProtobuf.Messages, fromJson.Messages);
        Assert.Equal(fromProtobuf.Severities, fromJson.Severities);
        Assert.Equal(["checkout"], fromJson.Services);
    }

    [Fact]
    public void TheBenchmarksLoadIsTheSameInBothEncodings()
    {
        var fromProtobuf = Decode(Batch(100, 50));
        var fromJson = Decode(BatchJson(100, 50), json: true);
        Assert.Equal(50, fromJson.Payloads.Count);
        Assert.Equal(fromProtobuf.Payloads.Select(p => p.GetRawText()), fromJson.Payloads.Select(p => p.GetRawText()));
    }

    [Fact]
    public void ATimeThatIsNotANumberOrAnEnumGivenByNameRejectsOnlyItsRecord()
    {
        const string body = """
            {"resourceLogs":[{"scopeLogs":[{"logRecords":[
              {"body":{"stringValue":"kept"}},
              {"timeUnixNano":"yesterday","body":{"stringValue":"bad time"}},
              {"severityNumber":"SEVERITY_NUMBER_INFO","body":{"stringValue":"enum by name"}},
              {"body":{"stringValue":"kept too"},"severityText":"WARN"}
            ]}]}]}
            """;
        var decoded = Decode(Encoding.UTF8.GetBytes(body), json: true);

        Assert.Equal(["kept", "kept too"], decoded.Messages);
        Assert.Equal(2, decoded.Rejected);
        Assert.Contains("timeUnixNano", decoded.FirstRejection);
        Assert.Equal([-1, 4], decoded.Severities);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"resourceLogs":{"scopeLogs":[]}}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[1]}]}]}""")]
    public void ABodyThatIsNotAnOtlpRequestIsAFormatErrorForTheWholeRequest(string body)
    {
        Assert.Throws<OtlpFormatException>(() => Decode(Encoding.UTF8.GetBytes(body), json: true));
    }

    [Fact]
    public void AnEmptyRequestHasNoRecordsAndIsNoError()
    {
        Assert.Empty(Decode("{}"u8.ToArray(), json: true).Payloads);
        Assert.Empty(Decode([]).Payloads);
    }
}
