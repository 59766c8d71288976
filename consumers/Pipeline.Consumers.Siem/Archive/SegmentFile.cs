using Microsoft.Win32.SafeHandles;
using Pipeline.Core.Storage;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Where a segment lives and how its file is made: a new segment is fsynced, and so is the folder that names it,
/// before any checkpoint may point at it.
/// </summary>
internal static class SegmentFile
{
    public static string PathOf(string directory, long index) => Path.Combine(directory, ArchiveFormat.SegmentName(index));

    public static SafeFileHandle Create(string directory, long index)
    {
        var handle = File.OpenHandle(PathOf(directory, index), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
        RandomAccess.FlushToDisk(handle);
        DurableFile.SyncDirectory(directory);
        return handle;
    }

    public static SafeFileHandle Open(string directory, long index) =>
        File.OpenHandle(PathOf(directory, index), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
}
