using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Windows;

namespace Pipeline.Consumers.TopK;

/// <summary>The top-k aggregator's settings (section <c>TopK</c>); every default is stated.</summary>
public sealed class TopKOptions
{
    public const string Section = "TopK";

    /// <summary>Npgsql connection string of the store. Default: a local server on 127.0.0.1:55432, database <c>pipeline</c>. Put the password in the environment.</summary>
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Port=55432;Username=pipeline;Database=pipeline";

    /// <summary>
    /// Comma-separated dimensions to keep heavy hitters of. Default <c>host,app,severity,source_ip,template,tenant</c>.
    /// Also known: <c>sender_ip</c> (the edge's view of the sender), <c>kind</c>, and <c>payload.&lt;field&gt;[.&lt;field&gt;]</c> for HTTP events.
    /// </summary>
    public string Dimensions { get; set; } = "host,app,severity,source_ip,template,tenant";

    /// <summary>The tumbling window. Default 1 minute.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The roll-up window, a multiple of <see cref="Window"/>; zero turns it off. Default 1 hour.</summary>
    public TimeSpan Rollup { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Keys tracked per sketch (one sketch per window, dimension and source partition). Default 1000: the overestimate of any count is at most 0.1 % of the window's events in that partition.</summary>
    public int Capacity { get; set; } = 1000;

    /// <summary>How long after its end a window still takes events. Default 30 s.</summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A partition that delivered no record for this long is taken as caught up, and its windows close on the
    /// wall clock (end + lateness); a partition with records flowing closes them by its own event time.
    /// Must exceed the consumer's batch wait. Default 10 s.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Events stamped further than this ahead of this process's clock are not counted (a wrong edge clock must not close every window). Default 5 min.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Longest a counted batch waits for its checkpoint (windows and offsets stored in one transaction). Batches
    /// within it are counted in memory only and stored together with the next checkpoint, so a busy stream writes
    /// each changed sketch about once per interval instead of once per batch; a crash reads them again from the
    /// stored offsets (exactly-once either way). Answers and published windows lag by up to this much. Zero
    /// stores every batch. The close timer (<see cref="CloseInterval"/>) checks it too, so a stream that stops is
    /// stored within an interval and a tick. Default 1 s.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often due windows are closed and pending results published. Default 1 s.</summary>
    public TimeSpan CloseInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Topic closed windows are published to; empty turns publishing off. Default <c>topk</c>.</summary>
    public string PublishTopic { get; set; } = "topk";

    /// <summary>Entries per published window and dimension. Default 100.</summary>
    public int PublishTop { get; set; } = 100;

    /// <summary>Stored windows older than this many days are deleted. Default 7; 0 keeps everything.</summary>
    public int RetentionDays { get; set; } = 7;

    /// <summary>Keys longer than this many chars are cut (templates end in '…'). Default 256.</summary>
    public int MaxKeyLength { get; set; } = 256;

    /// <summary>Longest a single store command may take. Default 60 s.</summary>
    public int CommandTimeoutSeconds { get; set; } = 60;

    internal IReadOnlyList<Dimension> DimensionList =>
        Dimensions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Dimension.Parse).ToList();

    /// <summary>The base window, then the roll-up (if on).</summary>
    internal IReadOnlyList<Granularity> Granularities =>
        Rollup == TimeSpan.Zero ? [new Granularity(Window)] : [new Granularity(Window), new Granularity(Rollup)];

    /// <summary>Checks every rule at start-up, naming what is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString)) throw new ArgumentException("Postgres:ConnectionString (--postgres) is required");
        var dimensions = DimensionList;
        if (dimensions.Count == 0) throw new ArgumentException("TopK:Dimensions names no dimension");
        if (dimensions.Count > 64) throw new ArgumentException("TopK:Dimensions names more than 64 dimensions");
        if (dimensions.GroupBy(d => d.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"TopK:Dimensions names '{twice.Key}' twice");
        _ = new Granularity(Window);
        if (Rollup != TimeSpan.Zero)
        {
            _ = new Granularity(Rollup);
            if (Rollup <= Window || Rollup.Ticks % Window.Ticks != 0)
                throw new ArgumentException("TopK:Rollup must be a multiple of TopK:Window larger than it (or zero)");
        }
        if (Capacity is < 8 or > 1_000_000) throw new ArgumentException("TopK:Capacity must be between 8 and 1,000,000");
        if (AllowedLateness < TimeSpan.Zero) throw new ArgumentException("TopK:AllowedLateness must not be negative");
        if (IdleTimeout <= TimeSpan.Zero) throw new ArgumentException("TopK:IdleTimeout must be positive");
        if (MaxClockSkew < TimeSpan.Zero) throw new ArgumentException("TopK:MaxClockSkew must not be negative");
        if (CloseInterval <= TimeSpan.Zero) throw new ArgumentException("TopK:CloseInterval must be positive");
        if (CheckpointInterval < TimeSpan.Zero || CheckpointInterval > TimeSpan.FromMinutes(1))
            throw new ArgumentException("TopK:CheckpointInterval must be between 0 (every batch) and 1 minute");
        if (PublishTop < 1 || PublishTop > Capacity) throw new ArgumentException("TopK:PublishTop must be between 1 and TopK:Capacity");
        if (RetentionDays < 0) throw new ArgumentException("TopK:RetentionDays must be 0 (keep) or more");
        if (MaxKeyLength is < 16 or > 4096) throw new ArgumentException("TopK:MaxKeyLength must be between 16 and 4096");
        if (CommandTimeoutSeconds < 1) throw new ArgumentException("TopK:CommandTimeoutSeconds must be at least 1");
    }

    /// <summary>Rules that involve the consumer's own settings.</summary>
    public void Validate(TimeSpan batchMaxWait)
    {
        Validate();
        // A partition whose records sit in the runtime's batch is not idle: closing it then would make them late.
        if (IdleTimeout <= batchMaxWait)
            throw new ArgumentException($"TopK:IdleTimeout ({IdleTimeout}) must be longer than Consumer:BatchMaxWait ({batchMaxWait})");
    }
}
