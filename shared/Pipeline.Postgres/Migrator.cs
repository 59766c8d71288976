using System.Reflection;
using Dapper;
using Npgsql;

namespace Pipeline.Postgres;

/// <summary>
/// Applies versioned SQL migrations (embedded resources <c>migrations/&lt;scope&gt;/NNNN_name.sql</c>) in order,
/// each once, recorded in <c>schema_migrations</c>. Safe with several instances starting at once: a run holds a
/// transaction-scoped advisory lock for each of its scopes, so a second instance of the same worker waits and then
/// finds nothing left to do. The locks are per scope so that different workers started together on a new database
/// (the NOC's <c>noc</c>, top-k's <c>topk</c>) create their tables side by side instead of one after the other: in a
/// cold start of the whole pipeline the NOC waited about half a second for top-k's schema before its own.
/// </summary>
public static class Migrator
{
    private const long LockKey = 0x7069_7065_6c69_6e65; // "pipeline"
    private const int ScopeLockClass = 0x7363_6f70; // "scop"

    /// <summary>Applies the scopes in order (e.g. <c>core</c>, then <c>noc</c>); returns the versions applied now.</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, Assembly assembly, IEnumerable<string> scopes, CancellationToken cancellationToken)
    {
        var applied = new List<string>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await CreateHistoryAsync(connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var named = scopes.ToList();
        await LockScopesAsync(connection, transaction, named, cancellationToken);
        foreach (var scope in named)
        {
            var done = (await connection.QueryAsync<int>("select version from schema_migrations where scope = @scope", new { scope }, transaction)).ToHashSet();
            foreach (var migration in Load(assembly, scope).Where(m => !done.Contains(m.Version)))
            {
                await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync("insert into schema_migrations (scope, version, name) values (@scope, @Version, @Name)",
                    new { scope, migration.Version, migration.Name }, transaction);
                applied.Add($"{scope}/{migration.Version:D4}_{migration.Name}");
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    /// <summary>
    /// <c>schema_migrations</c>, in a transaction of its own under the one lock every scope shares: two transactions
    /// creating the same table at once would collide in the catalog even with <c>if not exists</c>.
    /// </summary>
    private static async Task CreateHistoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@LockKey)", new { LockKey }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            create table if not exists schema_migrations (
                scope      text        not null,
                version    integer     not null,
                name       text        not null,
                applied_at timestamptz not null default now(),
                primary key (scope, version))
            """, transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Takes each scope's lock until the transaction ends, in one order whatever the caller's, so that two runs of
    /// overlapping scopes wait for each other rather than deadlock.
    /// </summary>
    internal static async Task LockScopesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> scopes, CancellationToken cancellationToken)
    {
        foreach (var scope in scopes.Distinct().Order(StringComparer.Ordinal))
        {
            await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@ScopeLockClass, @Key)", new { ScopeLockClass, Key = ScopeLockKey(scope) },
                transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>
    /// A scope's key in PostgreSQL's two-number lock space (apart from the one-number space of <see cref="LockKey"/>):
    /// FNV-1a of its name, the same in every process and release, which a string's own hash is not.
    /// </summary>
    private static int ScopeLockKey(string scope)
    {
        var hash = 2166136261u;
        foreach (var c in scope) hash = (hash ^ c) * 16777619u;
        return unchecked((int)hash);
    }

    /// <summary>The migrations of one scope, ordered by version; names must be <c>NNNN_name.sql</c>.</summary>
    public static IReadOnlyList<Migration> Load(Assembly assembly, string scope)
    {
        var prefix = $"migrations/{scope}/";
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var file = resource[prefix.Length..];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(file[..underscore], System.Globalization.CultureInfo.InvariantCulture, out var version))
                throw new InvalidOperationException($"migration {resource} is not named NNNN_name.sql");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(version, Path.GetFileNameWithoutExtension(file)[(underscore + 1)..], reader.ReadToEnd()));
        }
        if (migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw new InvalidOperationException($"two migrations of scope {scope} have version {duplicate.Key}");
        return migrations.OrderBy(m => m.Version).ToList();
    }

    /// <summary>The core scope (consumer_offsets), which every Postgres-backed sink applies first.</summary>
    public static Task<IReadOnlyList<string>> ApplyCoreAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        ApplyAsync(dataSource, typeof(Migrator).Assembly, ["core"], cancellationToken);
}

public sealed record Migration(int Version, string Name, string Sql);
