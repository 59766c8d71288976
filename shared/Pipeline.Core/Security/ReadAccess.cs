using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Core.Security;

/// <summary>
/// Who may call a process's read endpoints (a query API, a status page). On a loopback address, anyone on the host
/// may, unless tokens are configured; bound beyond loopback, tokens are required and a start without any is refused.
/// A caller presents one as <c>Authorization: Bearer &lt;token&gt;</c>, or as the password of HTTP Basic
/// authentication (any user name), which is what a browser sends after asking for it.
/// </summary>
public sealed class ReadAccess
{
    private readonly TokenTable<int> _tokens;

    private ReadAccess(TokenTable<int> tokens) => _tokens = tokens;

    /// <summary>True when a request must present a token.</summary>
    public bool Required => _tokens.Count > 0;

    /// <summary>
    /// The read access of endpoints served on <paramref name="bind"/>; <paramref name="setting"/> names where tokens
    /// are configured, and <paramref name="howToSet"/> (default <c>setting:0:Token</c>) says how to give one when none is.
    /// </summary>
    public static ReadAccess For(IPEndPoint bind, IReadOnlyList<AccessToken> tokens, string setting, string? howToSet = null)
    {
        for (var i = 0; i < tokens.Count; i++) tokens[i].Validate($"{setting}:{i}");
        if (tokens.Count == 0 && !IPAddress.IsLoopback(bind.Address))
            throw new ArgumentException($"{bind} is beyond loopback, so its read endpoints need a token: set {howToSet ?? setting + ":0:Token (or TokenSha256)"}");
        return new ReadAccess(new TokenTable<int>(tokens.Select((t, i) => (t, i))));
    }

    /// <summary>True when the request may read: no token is required, or it presents a known one.</summary>
    public bool Allows(HttpRequest request) => !Required || (Presented(request) is { } token && _tokens.TryFind(token, out _));

    /// <summary>The 401 a refused request gets: it says both ways of presenting a token, so a browser asks for one.</summary>
    public static void Refuse(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = new Microsoft.Extensions.Primitives.StringValues(["Bearer", "Basic realm=\"pipeline\", charset=\"UTF-8\""]);
    }

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : pair[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
