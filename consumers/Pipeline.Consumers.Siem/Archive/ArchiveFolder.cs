namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Claims an archive folder for this process: creates it (and its cursors folder) and holds its lock file open
/// without sharing, so a second writer fails at open instead of interleaving appends with the first.
/// </summary>
internal static class ArchiveFolder
{
    /// <summary>The lock; the folder is this process's until it is disposed.</summary>
    public static FileStream Claim(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, ArchiveFormat.CursorsFolder));
        try
        {
            return new FileStream(Path.Combine(directory, ArchiveFormat.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"the archive {directory} is in use by another process (one process per archive folder)", ex);
        }
    }
}
