using System.Text.Json;
using Pipeline.Core.Storage;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Reads and replaces the writer's <c>checkpoint.json</c>. Apart from the writer because recovery at open writes it
/// too, and both must write it the same way: unindented, fsynced, renamed into place (the commit point).
/// </summary>
internal static class ArchiveCheckpoint
{
    private static string PathIn(string directory) => Path.Combine(directory, ArchiveFormat.CheckpointFile);

    public static Checkpoint? Read(string directory) => ArchiveJson.Read(PathIn(directory), ArchiveJson.Default.Checkpoint);

    public static void Write(string directory, Checkpoint checkpoint) =>
        DurableFile.Replace(PathIn(directory), JsonSerializer.SerializeToUtf8Bytes(checkpoint, CompactArchiveJson.Default.Checkpoint));
}
