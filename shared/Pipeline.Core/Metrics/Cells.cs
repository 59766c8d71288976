namespace Pipeline.Core.Metrics;

/// <summary>
/// A count kept where it happens: one interlocked add and no instrument call. An observable instrument
/// (<see cref="CounterFamily"/>) reads it when metrics are collected, so a hot path pays nothing more for
/// being measured than the add it makes.
/// </summary>
public sealed class CounterCell
{
    private long _value;

    public void Inc() => Interlocked.Increment(ref _value);

    public void Inc(long by) => Interlocked.Add(ref _value, by);

    public long Count => Interlocked.Read(ref _value);
}

/// <summary>A value that goes up and down (or is copied in), read by an observable gauge (<see cref="GaugeFamily"/>).</summary>
public sealed class GaugeCell
{
    private long _bits;

    public void Set(double value) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(value));

    public void Add(double delta)
    {
        long seen, updated;
        do
        {
            seen = Interlocked.Read(ref _bits);
            updated = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + delta);
        } while (Interlocked.CompareExchange(ref _bits, updated, seen) != seen);
    }

    public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));
}
