using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Pipeline.Bench;

/// <summary>
/// What every benchmark command needs: its options, the repository it runs from, helper processes, free ports, one-off SQL
/// against the bench cluster, a consumer group's join and the median of its rounds.
/// </summary>
internal static class BenchSupport
{
    /// <summary>The value after <paramref name="name"/> on the command line, or null.</summary>
    public static string? ArgText(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    public static int Arg(string[] args, string name, int fallback) =>
        ArgText(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The repository's root (where Pipeline.sln is), found upwards from the benchmark's binaries.</summary>
    public static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>Runs a bash script and returns what it printed; a failure ends the benchmark with the script's stderr.</summary>
    public static string RunScript(string script, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed: {stderr}");
        return stdout.Trim();
    }

    /// <summary>
    /// A loopback port free for TCP and UDP, below 65000 and with the next port also free: the edge bench binds syslog on both
    /// protocols and its HTTP listener one above; every other bench only needs the TCP port.
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            if (port >= 65000) continue;
            try
            {
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                using var next = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                next.Bind(new IPEndPoint(IPAddress.Loopback, port + 1));
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>Runs one statement (create or drop a database, checkpoint) on its own connection; null keeps Npgsql's command timeout.</summary>
    public static void Execute(string connectionString, string sql, int? timeoutSeconds = null)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        if (timeoutSeconds is { } seconds) command.CommandTimeout = seconds;
        command.ExecuteNonQuery();
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// Waits until the runtime's group has given it partitions (the embedded coordinator's join takes seconds, and a
    /// sink's clock starts only then), at most a minute.
    /// </summary>
    public static void WaitForAssignment(Pipeline.Kafka.Consuming.ConsumerRuntime runtime)
    {
        var joining = Stopwatch.StartNew();
        while (runtime.Assignment.Count == 0)
        {
            if (joining.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("no partitions assigned");
            Thread.Sleep(5);
        }
    }
}
