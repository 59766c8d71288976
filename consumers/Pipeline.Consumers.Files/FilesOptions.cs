namespace Pipeline.Consumers.Files;

/// <summary>The generic sink's output (section <c>Files</c>).</summary>
public sealed class FilesOptions
{
    public const string Section = "Files";

    /// <summary><c>stdout</c> (default) or a directory to write <c>&lt;group&gt;.jsonl</c> into, rotated by size.</summary>
    public string Output { get; set; } = "stdout";

    /// <summary>Rotate the file once it reaches this size. Default 100 MiB.</summary>
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Rotated files to keep; older ones are deleted. Default 0: keep all.</summary>
    public int KeepFiles { get; set; }

    public bool ToStdout => string.Equals(Output, "stdout", StringComparison.OrdinalIgnoreCase) || Output == "-";

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Output)) throw new ArgumentException("Files:Output must be 'stdout' or a directory");
        if (MaxFileBytes < 1024) throw new ArgumentException("Files:MaxFileBytes must be at least 1024");
        if (KeepFiles < 0) throw new ArgumentException("Files:KeepFiles must be 0 (keep all) or more");
    }
}
