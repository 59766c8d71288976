using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Pipeline.Bench;

/// <summary>Light load generators: pre-built bytes, so the sender costs as little CPU as possible.</summary>
internal static class LoadSenders
{
    /// <summary>An RFC 5424 line of about 120 bytes; hosts and apps vary so keys spread over partitions.</summary>
    public static string Line(int n) =>
        $"<134>1 2026-11-21T10:00:00.{n % 1000:D3}Z host-{n % 64} app-{n % 8} {1000 + n % 5000} ID{n % 100} - benchmark message number {n} with a little text";

    /// <summary>The JSON event the HTTP load posts, number <paramref name="n"/>.</summary>
    public static string JsonEvent(int n) =>
        $"{{\"host\":\"host-{n % 64}\",\"app\":\"app-{n % 8}\",\"level\":\"info\",\"msg\":\"benchmark event number {n} with a little text\"}}";

    /// <summary>The same JSON event as a syslog line carrying it after the CEE cookie (what rsyslog's mmjsonparse reads).</summary>
    public static string CeeLine(int n) => $"<134>1 2026-11-21T10:00:00.{n % 1000:D3}Z host-{n % 64} app-{n % 8} - - - @cee:{JsonEvent(n)}";

    /// <summary>Sends <paramref name="count"/> octet-counted lines over <paramref name="connections"/> TCP connections as fast as they are taken.</summary>
    public static async Task SendTcpAsync(int port, int count, int connections, Func<int, string>? lines = null)
    {
        lines ??= Line;
        var perConnection = count / connections;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            var first = c * perConnection;
            var last = c == connections - 1 ? count : first + perConnection;
            using var client = new TcpClient { NoDelay = false, SendBufferSize = 1 << 20 };
            await client.ConnectAsync("127.0.0.1", port);
            var stream = client.GetStream();
            var buffer = new MemoryStream(1 << 20);
            for (var n = first; n < last; n++)
            {
                var line = Encoding.ASCII.GetBytes(lines(n));
                buffer.Write(Encoding.ASCII.GetBytes(line.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                buffer.WriteByte((byte)' ');
                buffer.Write(line);
                if (buffer.Length >= 256 * 1024)
                {
                    await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
                    buffer.SetLength(0);
                }
            }
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
            client.Client.Shutdown(SocketShutdown.Send);
        })));
    }

    /// <summary>Sends datagrams at <paramref name="perSecond"/> (0 = as fast as possible) for <paramref name="count"/> messages.</summary>
    public static void SendUdp(int port, int count, int perSecond)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect("127.0.0.1", port);
        var datagrams = Enumerable.Range(0, 4096).Select(i => Encoding.ASCII.GetBytes(Line(i))).ToArray();
        var clock = Stopwatch.StartNew();
        for (var n = 0; n < count; n++)
        {
            if (perSecond > 0 && n % 256 == 0)
            {
                var due = TimeSpan.FromSeconds((double)n / perSecond);
                while (clock.Elapsed < due) Thread.SpinWait(50);
            }
            socket.Send(datagrams[n % datagrams.Length]);
        }
    }

    /// <summary>Posts <paramref name="count"/> OTLP log records in requests of <paramref name="batch"/> (protobuf or JSON) from <paramref name="clients"/> concurrent clients.</summary>
    public static async Task SendOtlpAsync(string baseUrl, int count, int batch, int clients, bool json)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var bodies = Enumerable.Range(0, 16).Select(b => json ? Tests.Shared.OtlpRequests.BatchJson(b * batch, batch) : Tests.Shared.OtlpRequests.Batch(b * batch, batch)).ToArray();
        var type = new MediaTypeHeaderValue(json ? "application/json" : "application/x-protobuf");
        var batches = count / batch;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                using var content = new ByteArrayContent(bodies[b % bodies.Length]);
                content.Headers.ContentType = type;
                using var response = await http.PostAsync(baseUrl + "/v1/logs", content);
                response.EnsureSuccessStatusCode();
            }
        })));
    }

    /// <summary>Posts <paramref name="count"/> events as NDJSON batches from <paramref name="clients"/> concurrent clients; returns events accepted.</summary>
    public static async Task<long> SendHttpAsync(string baseUrl, int count, int batch, int clients)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var bodies = Enumerable.Range(0, 16).Select(b => Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(b * batch, batch).Select(JsonEvent)))).ToArray();
        var batches = count / batch;
        var next = -1;
        long accepted = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                using var content = new ByteArrayContent(bodies[b % bodies.Length]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                using var response = await http.PostAsync(baseUrl + "/v1/events", content);
                if (response.IsSuccessStatusCode) Interlocked.Add(ref accepted, batch);
            }
        })));
        return accepted;
    }

    /// <summary>
    /// Sends <paramref name="perSecond"/> octet-counted RFC 5424 lines a second over one TCP connection for
    /// <paramref name="duration"/>, in small steps (every 5 ms) so the load is steady, not bursts. Each line carries
    /// the time it is sent as its syslog timestamp and a host out of 1,000, so keys spread over partitions.
    /// Returns the number of lines sent.
    /// </summary>
    public static async Task<long> SendTcpPacedAsync(int port, int perSecond, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port, cancellationToken);
        var stream = client.GetStream();
        var buffer = new MemoryStream(1 << 16);
        var clock = Stopwatch.StartNew();
        long sent = 0;
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * perSecond);
            if (due <= sent)
            {
                await Task.Delay(5, cancellationToken);
                continue;
            }
            var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            buffer.SetLength(0);
            for (; sent < due; sent++)
            {
                var line = Encoding.ASCII.GetBytes($"<134>1 {now} host-{sent % 1000} app-{sent % 8} {1000 + sent % 5000} ID{sent % 100} - freshness probe {sent} with a little text");
                buffer.Write(Encoding.ASCII.GetBytes(line.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                buffer.WriteByte((byte)' ');
                buffer.Write(line);
            }
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken);
        }
        client.Client.Shutdown(SocketShutdown.Send);
        return sent;
    }
}
