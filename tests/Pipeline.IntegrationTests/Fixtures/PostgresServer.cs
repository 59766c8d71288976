using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// The private PostgreSQL cluster of infra/postgres/cluster.sh (started if it is not running). Tests
/// never use its databases: each creates a throwaway one with <see cref="CreateDatabaseAsync"/> and drops it.
/// A test that needs to stop the server gets a cluster of its own (<see cref="StartPrivate"/>).
/// </summary>
internal sealed class PostgresServer
{
    private static readonly Lazy<PostgresServer> Shared = new(() => Start(port: null, dir: null));

    private PostgresServer(string connectionString, int port, string? dir)
    {
        AdminConnectionString = connectionString;
        Port = port;
        Dir = dir;
    }

    public static PostgresServer Instance => Shared.Value;

    /// <summary>Connection string of the maintenance database (<c>postgres</c>).</summary>
    public string AdminConnectionString { get; }
    public int Port { get; }
    private string? Dir { get; }

    /// <summary>A cluster of the test's own on a free port, for tests that stop and start the server.</summary>
    public static PostgresServer StartPrivate() =>
        Start(FreePort.Next(), Path.Combine("/var/lib/pipeline", "test-postgres-" + Guid.NewGuid().ToString("N")[..8]));

    public async Task<TemporaryDatabase> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
            await admin.ExecuteAsync($"create database {name}");
        return new TemporaryDatabase(this, name, new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = false }.ConnectionString);
    }

    internal async Task DropDatabaseAsync(string name)
    {
        // A fresh connection: a pooled one may date from before a test restarted the server, and its error would
        // hide the test's own.
        await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
        await admin.ExecuteAsync($"drop database if exists {name} with (force)");
    }

    public void Stop() => Run("stop");

    public void StartAgain() => Run("start");

    /// <summary>Stops a private cluster and deletes its files.</summary>
    public void Destroy()
    {
        if (Dir is null) throw new InvalidOperationException("the shared cluster is not destroyed by tests");
        Run("stop");
        Directory.Delete(Dir, recursive: true);
        File.Delete(Dir + ".password");
    }

    private static PostgresServer Start(int? port, string? dir)
    {
        var args = new List<string> { "start", "--database", "postgres" };
        if (port is { } p) args.AddRange(["--port", p.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (dir is not null) args.AddRange(["--dir", dir]);
        var connectionString = RunScript(args);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return new PostgresServer(connectionString, builder.Port, dir);
    }

    private void Run(string command)
    {
        var args = new List<string> { command, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--database", "postgres" };
        if (Dir is not null) args.AddRange(["--dir", Dir]);
        RunScript(args);
    }

    private static string RunScript(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Repository.Path_("infra", "postgres", "cluster.sh"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        // Tests install nothing: infra/setup.sh installed PostgreSQL; without it the script fails and says so.
        info.ArgumentList.Add("--no-install");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"cluster.sh {string.Join(' ', info.ArgumentList)} failed:\n{stderr}");
        return stdout.Trim();
    }
}

/// <summary>A database created for one test and dropped after it.</summary>
internal sealed class TemporaryDatabase(PostgresServer server, string name, string connectionString) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;

    public NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException("null from: " + sql);
    }

    public async Task<long> CountAsync(string table)
    {
        try
        {
            return await ScalarAsync<long>($"select count(*) from {table}");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    public ValueTask DisposeAsync() => new(server.DropDatabaseAsync(Name));
}
