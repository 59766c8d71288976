using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.Consumers.Siem.Forwarding;

/// <summary>
/// CEF in RFC 5424 messages over TCP (optionally TLS), framed by octet counting (RFC 6587):
/// <c>&lt;length&gt; &lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME - MSGID - CEF:0|…</c>. A batch is one write and
/// one flush. Plain syslog over TCP has no acknowledgement, so a batch counts as delivered once the
/// kernel took it; before each batch the connection is checked for a close from the peer, so a SIEM that
/// went away is noticed before anything else is handed to a dead socket.
/// </summary>
internal sealed class CefSyslogDestination(ForwarderOptions options, string name, IReadOnlyDictionary<string, string> titles, ILogger log) : IForwardDestination
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private TcpClient? _client;
    private Stream? _stream;

    public int MaxInFlight => 1;

    public TimeSpan ConfirmInterval => TimeSpan.FromSeconds(1);

    public async Task SendAsync(OutgoingBatch batch, CancellationToken cancellationToken)
    {
        if (_client is not null && PeerClosed(_client.Client))
        {
            SiemLog.PeerClosed(log, name, options.Endpoint);
            await ResetAsync();
        }
        var stream = _stream ?? await ConnectAsync(cancellationToken);
        _buffer.ResetWrittenCount();
        foreach (var record in batch.Records) Frame(record);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        await stream.WriteAsync(_buffer.WrittenMemory, timeout.Token);
        await stream.FlushAsync(timeout.Token);
        batch.Confirmed = true;
    }

    public Task ConfirmAsync(IReadOnlyCollection<OutgoingBatch> inFlight, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>One octet-counted RFC 5424 message for a record.</summary>
    private void Frame(ArchivedRecord record)
    {
        var message = Message(record, options, titles);
        var bytes = Encoding.UTF8.GetByteCount(message);
        var prefix = bytes.ToString(CultureInfo.InvariantCulture) + " ";
        var span = _buffer.GetSpan(prefix.Length + bytes);
        var written = Encoding.ASCII.GetBytes(prefix, span);
        written += Encoding.UTF8.GetBytes(message, span[written..]);
        _buffer.Advance(written);
    }

    /// <summary>The RFC 5424 message (without framing) carrying a record's CEF text.</summary>
    public static string Message(ArchivedRecord record, ForwarderOptions options, IReadOnlyDictionary<string, string> titles)
    {
        var doc = record.Json;
        var cef = CefFormatter.Format(record, titles, options.MaxMessageChars);
        var severity = CefFormatter.Severity(doc) switch
        {
            >= 9 => 2,
            >= 7 => 3,
            >= 4 => 4,
            >= 1 => 6,
            _ => 7,
        };
        var timestamp = CefFormatter.Text(doc, EcsFields.Timestamp) is { } t
            && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)
            : "-";
        var host = HeaderToken(CefFormatter.Text(doc, EcsFields.HostName), 255);
        var msgid = record.IsAlert ? "alert" : "event";
        return string.Create(CultureInfo.InvariantCulture,
            $"<{options.Facility * 8 + severity}>1 {timestamp} {host} {options.AppName} - {msgid} - {cef}");
    }

    /// <summary>An RFC 5424 header field: printable ASCII without spaces, bounded, or the nil value.</summary>
    private static string HeaderToken(string? value, int max)
    {
        if (string.IsNullOrEmpty(value)) return "-";
        var text = new StringBuilder(Math.Min(value.Length, max));
        foreach (var c in value)
        {
            if (text.Length == max) break;
            text.Append(c is > ' ' and <= '~' ? c : '_');
        }
        return text.ToString();
    }

    private async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        if (!ForwarderOptions.TryParseHostPort(options.Endpoint, out var host, out var port))
            throw new InvalidOperationException($"'{options.Endpoint}' is not host:port");
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Timeout);
            await client.ConnectAsync(host, port, timeout.Token);
            Stream stream = client.GetStream();
            if (options.Tls.Enabled)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false, TlsTrust.Callback(options.Tls));
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = options.Tls.ServerName ?? host }, timeout.Token);
                stream = tls;
            }
            _client = client;
            _stream = stream;
            return stream;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A socket the peer closed reads as ready with nothing to read.</summary>
    private static bool PeerClosed(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    public async ValueTask ResetAsync()
    {
        try
        {
            if (_stream is not null) await _stream.DisposeAsync();
        }
        catch (IOException)
        {
        }
        _client?.Dispose();
        _stream = null;
        _client = null;
    }

    public ValueTask DisposeAsync() => ResetAsync();
}
