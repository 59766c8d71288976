using System.Net;
using System.Text;
using Pipeline.Core.Envelope;

namespace Pipeline.Edge.Markup;

/// <summary>
/// Where a batch of events came from: the listener (and its static markup) plus the peer and stream.
/// One per datagram, connection or request; not per event.
/// </summary>
internal sealed class IngestOrigin(ListenerMarkup listener, IPEndPoint? peer, StreamMarkup? stream)
{
    public ListenerMarkup Listener { get; } = listener;
    private byte[]? _peerAddressBytes;

    public IPEndPoint? Peer { get; private set; } = peer;
    public StreamMarkup? Stream { get; } = stream;

    /// <summary>The peer's address as ASCII (the Kafka key of events without a hostname); empty without a peer.</summary>
    public ReadOnlySpan<byte> PeerAddressBytes =>
        Peer is null ? default : _peerAddressBytes ??= Encoding.ASCII.GetBytes(Peer.Address.ToString());

    /// <summary>UDP reuses one origin per receive loop and only swaps the peer.</summary>
    public void SetPeer(IPEndPoint peer)
    {
        if (!ReferenceEquals(peer, Peer)) _peerAddressBytes = null;
        Peer = peer;
    }
}

/// <summary>The connection or request events arrived on: its id and headers (as the seed's streams table keeps them).</summary>
internal sealed class StreamMarkup(string id, IReadOnlyList<KeyValuePair<string, string>> headers, string? tenant)
{
    private byte[]? _json;

    public string Id { get; } = id;
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; } = headers;
    /// <summary>The tenant the stream's token maps to (overrides the listener's).</summary>
    public string? Tenant { get; } = tenant;

    /// <summary>The envelope's <c>stream</c> object, rendered once: every event of a request carries the same one.</summary>
    public ReadOnlySpan<byte> Json => _json ??= Render();

    private byte[] Render()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString(EnvelopeJson.OfStream.Id, Id);
            if (Headers.Count > 0)
            {
                w.WriteStartObject(EnvelopeJson.OfStream.Headers);
                foreach (var (name, value) in Headers) w.WriteString(name, value);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
