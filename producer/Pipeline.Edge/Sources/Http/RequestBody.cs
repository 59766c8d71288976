using System.Buffers;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Edge.Sources.Http;

/// <summary>Reads ingest request bodies whole, for the JSON, syslog and OTLP endpoints, which parse a body only once it is all in.</summary>
internal static class RequestBody
{
    /// <summary>Reads a request body (gunzipped when it says gzip) into a pooled buffer the caller returns; more than <paramref name="max"/> bytes throws <see cref="BodyTooLargeException"/>.</summary>
    public static async Task<(byte[] Body, int Length)> ReadAsync(HttpRequest request, long max, CancellationToken cancellationToken)
    {
        Stream source = request.Body;
        if (request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
            source = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
        await using (source)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(max + 1, Math.Max(request.ContentLength ?? 64 * 1024, 4096)));
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length > max) throw new BodyTooLargeException();
                        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(max + 1, (long)buffer.Length * 2));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
                    if (read == 0) break;
                    length += read;
                    if (length > max) throw new BodyTooLargeException();
                }
                return (buffer, length);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
    }
}

/// <summary>A body over <c>MaxBodyBytes</c> (before or after gzip); the endpoints answer 413 and keep nothing of it.</summary>
internal sealed class BodyTooLargeException : Exception;
