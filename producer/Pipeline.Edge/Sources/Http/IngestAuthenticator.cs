using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Edge.Sources.Http;

/// <summary>The caller of an ingest request: who they are (the tenant), or why they are refused.</summary>
internal readonly record struct Caller(bool Allowed, string? Tenant);

/// <summary>
/// Maps <c>Authorization: Bearer &lt;token&gt;</c> (or <c>?access_token=</c> for WebSocket clients, which cannot
/// set headers) to a tenant. Tokens are compared by SHA-256 in constant time.
/// </summary>
internal sealed class IngestAuthenticator(HttpIngestOptions options)
{
    private readonly (byte[] Hash, string Tenant)[] _tokens = options.Tokens.Select(t => (t.Hash(), t.Tenant)).ToArray();

    public Caller Authenticate(HttpRequest request)
    {
        var presented = Presented(request);
        if (presented is null) return new Caller(options.AllowAnonymous, options.AnonymousTenant);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        string? tenant = null;
        // Compare with every token so that timing says nothing about which one nearly matched.
        foreach (var (known, owner) in _tokens)
            if (CryptographicOperations.FixedTimeEquals(hash, known)) tenant = owner;
        return new Caller(tenant is not null, tenant);
    }

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        var query = request.Query["access_token"].ToString();
        return query.Length > 0 ? query : null;
    }
}
