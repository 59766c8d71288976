using Microsoft.AspNetCore.Http;
using Pipeline.Core.Security;

namespace Pipeline.Edge.Sources.Http;

/// <summary>The caller of an ingest request: who they are (the tenant), or why they are refused; <c>Token</c> is the matched token's place in the configuration.</summary>
internal readonly record struct Caller(bool Allowed, string? Tenant, int? Token = null);

/// <summary>
/// Maps <c>Authorization: Bearer &lt;token&gt;</c> (or <c>?access_token=</c> for WebSocket clients, which cannot
/// set headers) to a tenant. Tokens are compared by SHA-256 in constant time. A token from the query string is taken
/// out of the request's query once read, so nothing after (a log line, a stored stream) can see it.
/// </summary>
internal sealed class IngestAuthenticator(HttpIngestOptions options)
{
    private const string QueryToken = "access_token";
    private static readonly object CallerKey = new();
    private readonly TokenTable<(int Index, string Tenant)> _tokens = new(options.Tokens.Select((t, i) => ((AccessToken)t, (i, t.Tenant))));

    /// <summary>The request's caller, worked out once per request (the rate limiter asks before the endpoint does).</summary>
    public Caller Authenticate(HttpRequest request)
    {
        var items = request.HttpContext.Items;
        if (items.TryGetValue(CallerKey, out var known) && known is Caller caller) return caller;
        caller = Identify(request);
        items[CallerKey] = caller;
        return caller;
    }

    private Caller Identify(HttpRequest request)
    {
        var presented = Presented(request);
        if (presented is null) return new Caller(options.AllowAnonymous, options.AnonymousTenant);
        return _tokens.TryFind(presented, out var owner) ? new Caller(true, owner.Tenant, owner.Index) : new Caller(false, null);
    }

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        var query = request.Query[QueryToken].ToString();
        if (query.Length == 0) return null;
        request.QueryString = QueryString.Create(request.Query.Where(q => q.Key != QueryToken));
        return query;
    }
}
