namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// Pulling metrics (section <c>Edge:Scrape</c>): Prometheus endpoints scraped on a schedule, each sample
/// published as a metric event. Off until a target or a target file is configured.
/// </summary>
public sealed class ScrapeOptions
{
    /// <summary>The listener name of scraped events: in the loss ledger, in routes' <c>Match:Listener</c> and in metrics. Default <c>scrape</c>.</summary>
    public string Name { get; set; } = "scrape";

    /// <summary>How often each target is scraped unless it says otherwise. Default 10 s.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one scrape may take (connect, headers and body) unless the target says otherwise; a target scraped more often gets its interval. Default 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest body read from a target (after gzip decoding); a larger one is cut off and the scrape fails (<c>too_large</c>). Default 32 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 32L << 20;

    /// <summary>Most samples taken from one scrape; a target that exposes more fails the scrape (<c>sample_limit</c>). Default 200,000.</summary>
    public int SampleLimit { get; set; } = 200_000;

    /// <summary>Tenant of scraped events unless a target names one. Default none.</summary>
    public string? Tenant { get; set; }

    /// <summary>Labels added to every scraped sample (a target's own labels win). Default none.</summary>
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>Memory</c> (default) or <c>Disk</c>: what "accepted" means for scraped samples, as for listeners.</summary>
    public Publishing.BufferMode Buffer { get; set; } = Publishing.BufferMode.Memory;

    /// <summary>Targets named here.</summary>
    public List<ScrapeTargetOptions> Targets { get; set; } = [];

    /// <summary>Target files (Prometheus <c>file_sd</c> JSON or YAML), re-read when they change.</summary>
    public List<ScrapeFileOptions> Files { get; set; } = [];

    /// <summary>Target files are also re-read this often, in case a change notice was missed (network file systems). Default 30 s.</summary>
    public TimeSpan FileRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    internal bool Enabled => Targets.Count > 0 || Files.Count > 0;

    /// <summary>The default timeout for a target scraped every <paramref name="interval"/>: never longer than the interval (as Prometheus).</summary>
    internal TimeSpan TimeoutWithin(TimeSpan interval) => Timeout < interval ? Timeout : interval;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("Edge:Scrape:Name must not be empty");
        CheckDurations("Edge:Scrape", Interval, Timeout);
        if (MaxBodyBytes is < 1024 or > 1L << 30) throw new ArgumentException("Edge:Scrape:MaxBodyBytes must be between 1 KiB and 1 GiB");
        if (SampleLimit is < 1 or > 10_000_000) throw new ArgumentException("Edge:Scrape:SampleLimit must be between 1 and 10,000,000");
        if (FileRefreshInterval < TimeSpan.FromSeconds(1)) throw new ArgumentException("Edge:Scrape:FileRefreshInterval must be at least 1 s");
        for (var i = 0; i < Targets.Count; i++)
        {
            var target = Targets[i];
            var what = $"Edge:Scrape:Targets:{i}";
            if (!Uri.TryCreate(target.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw new ArgumentException($"{what}: Url '{target.Url}' is not an http(s) URL");
            target.Check(what, this);
        }
        for (var i = 0; i < Files.Count; i++)
        {
            var file = Files[i];
            var what = $"Edge:Scrape:Files:{i}";
            if (string.IsNullOrWhiteSpace(file.Path)) throw new ArgumentException($"{what}: Path is required");
            if (Path.GetDirectoryName(file.Path) is { } directory && directory.AsSpan().IndexOfAny('*', '?') >= 0)
                throw new ArgumentException($"{what}: a wildcard may only stand in the file name ('{file.Path}')");
            file.Check(what, this);
        }
    }

    internal static void CheckDurations(string what, TimeSpan interval, TimeSpan timeout)
    {
        if (interval < TimeSpan.FromMilliseconds(100)) throw new ArgumentException($"{what}: Interval must be at least 100 ms");
        if (timeout <= TimeSpan.Zero) throw new ArgumentException($"{what}: Timeout must be positive");
        // As Prometheus: a scrape that may outlast its interval would run into the next one.
        if (timeout > interval) throw new ArgumentException($"{what}: Timeout ({timeout}) must not exceed Interval ({interval})");
    }
}

/// <summary>What a target, or every target of a file, may set for itself; unset values come from <see cref="ScrapeOptions"/>.</summary>
public abstract class ScrapeSettings
{
    /// <summary>The <c>job</c> label of the target's samples. Default <c>scrape</c>.</summary>
    public string Job { get; set; } = "scrape";

    public TimeSpan? Interval { get; set; }
    public TimeSpan? Timeout { get; set; }
    public long? MaxBodyBytes { get; set; }
    public int? SampleLimit { get; set; }
    public string? Tenant { get; set; }

    /// <summary>Labels added to the target's samples.</summary>
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A file holding a bearer token sent as <c>Authorization</c>; read at every scrape, so it may be rotated.</summary>
    public string? BearerTokenFile { get; set; }

    internal void Check(string what, ScrapeOptions defaults)
    {
        if (string.IsNullOrWhiteSpace(Job)) throw new ArgumentException($"{what}: Job must not be empty");
        var interval = Interval ?? defaults.Interval;
        ScrapeOptions.CheckDurations(what, interval, Timeout ?? defaults.TimeoutWithin(interval));
        if (MaxBodyBytes is < 1024 or > 1L << 30) throw new ArgumentException($"{what}: MaxBodyBytes must be between 1 KiB and 1 GiB");
        if (SampleLimit is < 1 or > 10_000_000) throw new ArgumentException($"{what}: SampleLimit must be between 1 and 10,000,000");
        if (BearerTokenFile is not null && !File.Exists(BearerTokenFile)) throw new ArgumentException($"{what}: BearerTokenFile '{BearerTokenFile}' does not exist");
        foreach (var name in Labels.Keys.Concat(defaults.Labels.Keys))
            if (!TargetLabels.IsValidName(name)) throw new ArgumentException($"{what}: '{name}' is not a label name");
    }
}

/// <summary>One target named in configuration.</summary>
public sealed class ScrapeTargetOptions : ScrapeSettings
{
    /// <summary>The endpoint, e.g. <c>http://10.0.0.5:9100/metrics</c>. Required.</summary>
    public string Url { get; set; } = "";
}

/// <summary>A Prometheus <c>file_sd</c> file (or every file a wildcard in the name matches) of target groups.</summary>
public sealed class ScrapeFileOptions : ScrapeSettings
{
    /// <summary>Path of a <c>.json</c>, <c>.yml</c> or <c>.yaml</c> file; <c>*</c> and <c>?</c> may stand in the file name. Required.</summary>
    public string Path { get; set; } = "";
}
