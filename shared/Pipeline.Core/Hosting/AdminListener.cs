using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Pipeline.Core.Security;

namespace Pipeline.Core.Hosting;

/// <summary>The admin listener (section <c>Admin</c>, switch <c>--admin</c>): <c>/metrics</c> and <c>/healthz</c> apart from ingest and queries.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// Address and port of the admin listener (e.g. <c>0.0.0.0:9180</c>), or a port alone for <c>127.0.0.1:port</c>.
    /// When set, <c>/metrics</c> and <c>/healthz</c> answer there only, and the process's other ports serve only
    /// their own endpoints. Default empty: they are served on the process's main HTTP port, beside the rest.
    /// </summary>
    public string Bind { get; set; } = "";

    /// <summary>The admin listener's address, or null when there is none.</summary>
    public IPEndPoint? Endpoint()
    {
        var bind = Bind.Trim();
        if (bind.Length == 0) return null;
        if (int.TryParse(bind, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
            return new IPEndPoint(IPAddress.Loopback, port);
        if (!IPEndPoint.TryParse(bind, out var endpoint) || endpoint.Port == 0 || !bind.Contains(':', StringComparison.Ordinal))
            throw new ArgumentException($"Admin:Bind '{Bind}' is neither address:port nor a port");
        return endpoint;
    }

    /// <summary>The admin listener configured in <paramref name="configuration"/>, checked against the process's other TCP ports.</summary>
    public static IPEndPoint? Read(IConfiguration configuration, IEnumerable<int> otherPorts)
    {
        var admin = (configuration.GetSection(Section).Get<AdminOptions>() ?? new AdminOptions()).Endpoint();
        if (admin is not null && otherPorts.Contains(admin.Port))
            throw new ArgumentException($"Admin:Bind {admin} uses a port another listener of this process has");
        return admin;
    }
}

/// <summary>Marks an endpoint as an admin endpoint: served on the admin listener when there is one, never needing a read token.</summary>
public sealed class AdminEndpoint
{
    public static readonly AdminEndpoint Instance = new();

    private AdminEndpoint()
    {
    }
}

/// <summary>
/// Which endpoints answer on which listener, and who may read: with an admin listener, admin endpoints answer only
/// on it and nothing else does; with <see cref="ReadAccess"/>, every other endpoint needs a read token when one is required.
/// The listener is told by the local port a connection was accepted on, never by the Host header a client sends.
/// </summary>
public static class EndpointScopes
{
    public static IApplicationBuilder UseEndpointScopes(this IApplicationBuilder app, IPEndPoint? admin, ReadAccess? reads = null) =>
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is not { } endpoint) return next(context);
            var isAdmin = endpoint.Metadata.GetMetadata<AdminEndpoint>() is not null;
            if (admin is not null && (context.Connection.LocalPort == admin.Port) != isAdmin)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            if (!isAdmin && reads is not null && !reads.Allows(context.Request))
            {
                ReadAccess.Refuse(context.Response);
                return Task.CompletedTask;
            }
            return next(context);
        });
}
