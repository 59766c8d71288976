using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Pipeline.Postgres;

/// <summary>
/// Applies migrations when the host starts, before the services registered after it (the consumer
/// runtime) start. A database that is not up yet is waited for with capped backoff, not crashed on.
/// </summary>
public sealed partial class MigrateOnStart(NpgsqlDataSource dataSource, Assembly assembly, IReadOnlyList<string> scopes, ILogger<MigrateOnStart> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                var applied = (await Migrator.ApplyCoreAsync(dataSource, cancellationToken))
                    .Concat(await Migrator.ApplyAsync(dataSource, assembly, scopes, cancellationToken)).ToList();
                Migrated(log, applied.Count == 0 ? "none (schema up to date)" : string.Join(", ", applied));
                return;
            }
            catch (NpgsqlException ex) when (!ex.IsTransient && ex.InnerException is not (System.Net.Sockets.SocketException or IOException or TimeoutException))
            {
                // A wrong password, a missing database: waiting will not fix it.
                throw new ArgumentException($"PostgreSQL refused the sink: {ex.Message}", ex);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                Waiting(log, ex.Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(15).Ticks));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(301, LogLevel.Information, "Schema migrations applied: {Migrations}")]
    private static partial void Migrated(ILogger logger, string migrations);

    [LoggerMessage(302, LogLevel.Warning, "Database not reachable for migrations ({Reason}); retrying in {Delay}")]
    private static partial void Waiting(ILogger logger, string reason, TimeSpan delay);
}
