namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// The zone labels network devices print after a time (Cisco's <c>clock timezone CET 1</c> makes lines end their
/// time with <c>CET:</c>), as the fixed offsets they stand for. A label names the offset in force, so summer labels
/// (<c>CEST</c>, <c>EDT</c>) are their own entries. Only widely used, unambiguous labels are known; an ambiguous one
/// (<c>IST</c>: India, Ireland or Israel; <c>AST</c>) is left to the time-zone table.
/// </summary>
internal static class ZoneAbbreviations
{
    /// <summary>The offset in minutes the upper-case <paramref name="label"/> stands for.</summary>
    public static bool TryGetOffset(ReadOnlySpan<byte> label, out int minutes)
    {
        minutes = 0;
        switch (label.Length)
        {
            case 1 when label[0] == 'Z':
                return true;
            case 2 when label.SequenceEqual("UT"u8):
                return true;
            case 3:
                return TryThree(label, out minutes);
            case 4:
                return TryFour(label, out minutes);
            default:
                return false;
        }
    }

    private static bool TryThree(ReadOnlySpan<byte> l, out int minutes)
    {
        minutes = Key(l) switch
        {
            ('U' << 16) | ('T' << 8) | 'C' => 0,
            ('G' << 16) | ('M' << 8) | 'T' => 0,
            ('W' << 16) | ('E' << 8) | 'T' => 0,
            ('B' << 16) | ('S' << 8) | 'T' => 60,
            ('C' << 16) | ('E' << 8) | 'T' => 60,
            ('M' << 16) | ('E' << 8) | 'T' => 60,
            ('E' << 16) | ('E' << 8) | 'T' => 120,
            ('M' << 16) | ('S' << 8) | 'K' => 180,
            ('H' << 16) | ('K' << 8) | 'T' => 480,
            ('S' << 16) | ('G' << 8) | 'T' => 480,
            ('J' << 16) | ('S' << 8) | 'T' => 540,
            ('K' << 16) | ('S' << 8) | 'T' => 540,
            ('E' << 16) | ('S' << 8) | 'T' => -300,
            ('E' << 16) | ('D' << 8) | 'T' => -240,
            ('C' << 16) | ('S' << 8) | 'T' => -360,
            ('C' << 16) | ('D' << 8) | 'T' => -300,
            ('M' << 16) | ('S' << 8) | 'T' => -420,
            ('M' << 16) | ('D' << 8) | 'T' => -360,
            ('P' << 16) | ('S' << 8) | 'T' => -480,
            ('P' << 16) | ('D' << 8) | 'T' => -420,
            ('H' << 16) | ('S' << 8) | 'T' => -600,
            _ => int.MinValue,
        };
        return minutes != int.MinValue;
    }

    private static bool TryFour(ReadOnlySpan<byte> l, out int minutes)
    {
        minutes = (Key(l[..3]), l[3]) switch
        {
            ((('W' << 16) | ('E' << 8) | 'S'), (byte)'T') => 60,
            ((('C' << 16) | ('E' << 8) | 'S'), (byte)'T') => 120,
            ((('M' << 16) | ('E' << 8) | 'S'), (byte)'T') => 120,
            ((('E' << 16) | ('E' << 8) | 'S'), (byte)'T') => 180,
            ((('A' << 16) | ('W' << 8) | 'S'), (byte)'T') => 480,
            ((('A' << 16) | ('C' << 8) | 'S'), (byte)'T') => 570,
            ((('A' << 16) | ('E' << 8) | 'S'), (byte)'T') => 600,
            ((('A' << 16) | ('E' << 8) | 'D'), (byte)'T') => 660,
            ((('N' << 16) | ('Z' << 8) | 'S'), (byte)'T') => 720,
            ((('N' << 16) | ('Z' << 8) | 'D'), (byte)'T') => 780,
            ((('A' << 16) | ('K' << 8) | 'S'), (byte)'T') => -540,
            ((('A' << 16) | ('K' << 8) | 'D'), (byte)'T') => -480,
            _ => int.MinValue,
        };
        return minutes != int.MinValue;
    }

    private static int Key(ReadOnlySpan<byte> l) => (l[0] << 16) | (l[1] << 8) | l[2];
}
