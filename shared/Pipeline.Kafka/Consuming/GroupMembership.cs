using System.Net;
using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// How a worker is a member of its group: the protocol, session and heartbeat, its static identity (Kafka's
/// <c>group.instance.id</c>: derived when not given, checked, and claimed on this host so no two workers of a
/// group share one), and leaving the group when it stops.
/// </summary>
public static class GroupMembership
{
    public const string Classic = "classic";
    public const string Consumer = "consumer";

    /// <summary>Kafka's limit on a <c>group.instance.id</c>, as on a topic name.</summary>
    public const int MaxInstanceIdLength = 249;

    /// <summary>The heartbeat in force: <see cref="ConsumerOptions.HeartbeatInterval"/>, or a third of the session timeout.</summary>
    public static TimeSpan Heartbeat(ConsumerOptions options) =>
        options.HeartbeatInterval > TimeSpan.Zero ? options.HeartbeatInterval : options.SessionTimeout / 3;

    /// <summary>The identity the member joins with, or null when it has none (dynamic membership).</summary>
    public static string? InstanceId(ConsumerOptions options) =>
        options.StaticMembership && options.InstanceId.Length > 0 ? options.InstanceId : null;

    internal static void Validate(ConsumerOptions options)
    {
        if (options.GroupProtocol is not (Classic or Consumer))
            throw new ArgumentException($"Consumer:GroupProtocol must be {Classic} or {Consumer}, not '{options.GroupProtocol}'");
        if (options.SessionTimeout < TimeSpan.FromSeconds(1)) throw new ArgumentException("SessionTimeout must be at least 1 s");
        if (options.HeartbeatInterval < TimeSpan.Zero) throw new ArgumentException("HeartbeatInterval must not be negative");
        // Kafka's own rule of thumb: a member that misses one or two heartbeats is not yet declared dead.
        if (options.HeartbeatInterval * 3 > options.SessionTimeout)
            throw new ArgumentException($"HeartbeatInterval ({options.HeartbeatInterval.TotalSeconds:0.###} s) must be at most a third of SessionTimeout ({options.SessionTimeout.TotalSeconds:0.###} s)");
        if (options.InstanceId.Length > 0) CheckInstanceId(options.InstanceId);
    }

    /// <summary>Throws when <paramref name="id"/> is not a valid <c>group.instance.id</c> (Kafka's rules for names).</summary>
    public static void CheckInstanceId(string id)
    {
        if (id.Length > MaxInstanceIdLength) throw new ArgumentException($"--instance-id is longer than {MaxInstanceIdLength} characters");
        if (id is "." or ".." || id.Any(c => !IsAllowed(c)))
            throw new ArgumentException($"--instance-id '{id}' may hold only letters, digits, '.', '_' and '-'");
    }

    internal static void Configure(ConsumerOptions options, ConsumerConfig config)
    {
        // A pass-through group.protocol is honoured as if it were the option.
        if (options.GroupProtocol == Consumer || string.Equals(config.Get("group.protocol"), Consumer, StringComparison.OrdinalIgnoreCase))
        {
            // KIP-848: the broker owns the session, the heartbeat and the assignment; the client refuses these.
            config.Set("group.protocol", Consumer);
        }
        else
        {
            config.SessionTimeoutMs = (int)options.SessionTimeout.TotalMilliseconds;
            config.HeartbeatIntervalMs = (int)Heartbeat(options).TotalMilliseconds;
            // Incremental rebalancing: only the partitions that move stop, every member goes on with the rest.
            config.PartitionAssignmentStrategy ??= PartitionAssignmentStrategy.CooperativeSticky;
        }
        if (InstanceId(options) is { } id) config.GroupInstanceId = id;
    }

    /// <summary>
    /// Gives the member its identity when none is configured, from what stays the same when the same worker is
    /// started again on this host and differs between workers on it: the host name, the worker's name and its
    /// HTTP port. None when the port is chosen at random (0). Then claims it (see <see cref="Claim"/>).
    /// </summary>
    public static IDisposable? Establish(ConsumerOptions options, string worker, IPEndPoint http)
    {
        if (!options.StaticMembership) return null;
        if (options.InstanceId.Length == 0)
        {
            if (http.Port == 0) return null;
            options.InstanceId = Derive(Environment.MachineName, worker, http.Port);
        }
        return Claim(options.Group, options.InstanceId);
    }

    /// <summary><c>&lt;host&gt;.&lt;worker&gt;.&lt;port&gt;</c>, lower case, with anything Kafka would refuse turned into '-'.</summary>
    public static string Derive(string host, string worker, int port)
    {
        var text = $"{host}.{worker}.{port}".ToLowerInvariant();
        var id = new string(text.Select(c => IsAllowed(c) ? c : '-').ToArray());
        return id.Length <= MaxInstanceIdLength ? id : id[^MaxInstanceIdLength..];
    }

    /// <summary>
    /// Holds (group, instance id) for this process, by an exclusive lock on a file in the temporary folder,
    /// released when the process ends however it ends. Two live members with one identity would fence each
    /// other off in turn; a second worker on this host claiming a held one is refused at start-up instead.
    /// </summary>
    public static IDisposable Claim(string group, string instanceId, string? directory = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "pipeline-group-members");
        Directory.CreateDirectory(directory);
        // The group id may hold any character; a hash names the pair safely.
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(group + "\n" + instanceId)))[..32] + ".lock";
        try
        {
            return new FileStream(Path.Combine(directory, name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new ArgumentException($"group.instance.id '{instanceId}' is already used in group '{group}' by another worker on this host: " +
                "give each worker of a group its own --instance-id (the default one is derived from the host, the worker and its --http port)");
        }
    }

    /// <summary>
    /// Before the consumer is closed on a graceful stop: makes sure the member leaves the group, so its partitions
    /// move at once rather than after its session. A classic member with a static identity does not leave when
    /// it closes (KIP-345: it is expected back); unsubscribing first does. The client holds the unsubscribe back
    /// while a rebalance is in progress and applies it once that completes; the rebalance and the revoke that
    /// follow are served here, until the client has sent the leave (it clears the member id then) or
    /// <paramref name="timeout"/> passes — then the member is dropped when its session runs out, as after a crash.
    /// Records fetched meanwhile are not written: they are read again by whoever gets their partitions.
    /// </summary>
    internal static void LeaveBeforeClose(IConsumer<byte[]?, byte[]> consumer, ConsumerOptions options, TimeProvider time, TimeSpan timeout)
    {
        if (InstanceId(options) is null || options.GroupProtocol != Classic) return;
        try
        {
            consumer.Unsubscribe();
            var started = time.GetTimestamp();
            while (!string.IsNullOrEmpty(consumer.MemberId) && time.GetElapsedTime(started) < timeout)
                consumer.Consume(TimeSpan.FromMilliseconds(50));
        }
        catch (KafkaException)
        {
            // Kafka is away: the member is dropped when its session runs out, as after a crash.
        }
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
}
