using System.Buffers;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>How an OTLP request's body is encoded; the answer uses the same encoding, as OTLP/HTTP requires.</summary>
internal enum OtlpEncoding
{
    Protobuf,
    Json,
}

/// <summary>
/// OTLP/HTTP answers: <c>ExportLogsServiceResponse</c> on 200 (with <c>partial_success</c> when records were
/// rejected), <c>google.rpc.Status</c> on every 4xx and 5xx, in protobuf or JSON as the request was.
/// </summary>
internal static class OtlpReply
{
    public const string ProtobufType = "application/x-protobuf";
    public const string JsonType = "application/json";

    /// <summary>The encoding a Content-Type names (parameters such as charset aside), or null when it is neither of OTLP's.</summary>
    public static OtlpEncoding? EncodingOf(string? contentType)
    {
        var media = (contentType ?? "").Split(';')[0].Trim();
        if (media.Equals(ProtobufType, StringComparison.OrdinalIgnoreCase)) return OtlpEncoding.Protobuf;
        if (media.Equals(JsonType, StringComparison.OrdinalIgnoreCase)) return OtlpEncoding.Json;
        return null;
    }

    /// <summary>200: full success (an empty response), or partial success naming how many records were rejected and why.</summary>
    public static IResult Success(OtlpEncoding encoding, long rejected, string? message)
    {
        if (encoding == OtlpEncoding.Json)
        {
            return Json(StatusCodes.Status200OK, w =>
            {
                if (rejected == 0 && string.IsNullOrEmpty(message)) return;
                w.WriteStartObject(OtlpWire.Response.PartialSuccessJson);
                // int64 is a decimal string in OTLP/JSON.
                if (rejected != 0) w.WriteString(OtlpWire.Response.RejectedLogRecordsJson, rejected.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (!string.IsNullOrEmpty(message)) w.WriteString(OtlpWire.Response.ErrorMessageJson, message);
                w.WriteEndObject();
            });
        }
        return Protobuf(StatusCodes.Status200OK, output =>
        {
            if (rejected == 0 && string.IsNullOrEmpty(message)) return;
            var size = (rejected != 0 ? 1 + CodedOutputStream.ComputeInt64Size(rejected) : 0)
                + (string.IsNullOrEmpty(message) ? 0 : 1 + CodedOutputStream.ComputeStringSize(message));
            output.WriteTag(OtlpWire.Response.PartialSuccess, WireFormat.WireType.LengthDelimited);
            output.WriteLength(size);
            if (rejected != 0)
            {
                output.WriteTag(OtlpWire.Response.RejectedLogRecords, WireFormat.WireType.Varint);
                output.WriteInt64(rejected);
            }
            if (!string.IsNullOrEmpty(message))
            {
                output.WriteTag(OtlpWire.Response.ErrorMessage, WireFormat.WireType.LengthDelimited);
                output.WriteString(message);
            }
        });
    }

    /// <summary>A failure: <paramref name="status"/> with a <c>Status</c> whose code is the matching gRPC code and whose message says what to do.</summary>
    public static IResult Failure(OtlpEncoding encoding, int status, string message)
    {
        var code = GrpcCode(status);
        if (encoding == OtlpEncoding.Json)
        {
            return Json(status, w =>
            {
                w.WriteNumber(OtlpWire.Status.CodeJson, code);
                w.WriteString(OtlpWire.Status.MessageJson, message);
            });
        }
        return Protobuf(status, output =>
        {
            output.WriteTag(OtlpWire.Status.Code, WireFormat.WireType.Varint);
            output.WriteInt32(code);
            output.WriteTag(OtlpWire.Status.Message, WireFormat.WireType.LengthDelimited);
            output.WriteString(message);
        });
    }

    // The gRPC code OTLP/gRPC would give the same failure (the Status's code is informational over HTTP).
    private static int GrpcCode(int status) => status switch
    {
        StatusCodes.Status400BadRequest or StatusCodes.Status415UnsupportedMediaType => 3, // INVALID_ARGUMENT
        StatusCodes.Status401Unauthorized => 16, // UNAUTHENTICATED
        StatusCodes.Status404NotFound => 12, // UNIMPLEMENTED
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => 8, // RESOURCE_EXHAUSTED
        StatusCodes.Status503ServiceUnavailable => 14, // UNAVAILABLE
        _ => 2, // UNKNOWN
    };

    private static IResult Json(int status, Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }
        return new Body(status, JsonType, buffer.WrittenMemory);
    }

    private static IResult Protobuf(int status, Action<CodedOutputStream> fields)
    {
        using var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true))
        {
            fields(output);
        }
        return new Body(status, ProtobufType, stream.ToArray());
    }

    /// <summary>An answer with any status code and a body already encoded.</summary>
    private sealed class Body(int status, string contentType, ReadOnlyMemory<byte> content) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = contentType;
            response.ContentLength = content.Length;
            await response.Body.WriteAsync(content, httpContext.RequestAborted);
        }
    }
}
