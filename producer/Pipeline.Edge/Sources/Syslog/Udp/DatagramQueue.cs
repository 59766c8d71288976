using System.Buffers.Binary;

namespace Pipeline.Edge.Sources.Syslog.Udp;

/// <summary>
/// Datagrams received and not yet processed, packed into slabs that pass from the receiving thread to the
/// processing threads. Memory is bounded by the number of slabs: when all are taken the receiver waits, the
/// socket's own buffer fills, and the kernel drops (and counts) what no longer fits — the same place a UDP
/// sender's loss is counted whether or not the edge has this queue.
/// <para>
/// Two queues under their own locks, whose waiters sleep at once (<see cref="Monitor.Wait(object)"/>): a
/// <c>BlockingCollection</c> waits on a <c>SemaphoreSlim</c>, which spins and yields the core some hundred times
/// before it sleeps — in a burst the processing threads spent 29 % of their CPU in <c>sched_yield</c> waiting for
/// the next slab. A slab carries hundreds of datagrams, so a lock per slab costs nothing per datagram.
/// </para>
/// </summary>
internal sealed class DatagramQueue : IDisposable
{
    private readonly Queue<DatagramSlab> _filled = new();
    private readonly Stack<DatagramSlab> _free = new();
    private readonly int _slabBytes;
    private readonly int _maxSlabs;
    private int _slabs;
    private int _queuedDatagrams;
    private int _waitingSlabs;
    private bool _completed;

    public DatagramQueue(long limitBytes, int slabBytes)
    {
        _slabBytes = slabBytes;
        _maxSlabs = (int)Math.Clamp(limitBytes / slabBytes, 2, int.MaxValue);
    }

    /// <summary>Datagrams waiting to be processed.</summary>
    public int QueuedDatagrams => Volatile.Read(ref _queuedDatagrams);

    /// <summary>Slabs handed over and not yet taken by a processing thread.</summary>
    public int WaitingSlabs => Volatile.Read(ref _waitingSlabs);

    /// <summary>Fewer than half the slabs wait to be processed: room left to absorb what arrives while processing pauses.</summary>
    public bool LessThanHalfFull => WaitingSlabs < _maxSlabs / 2;

    /// <summary>An empty slab, made when fewer than the limit exist; null when every slab is taken for <paramref name="wait"/>.</summary>
    public DatagramSlab? Rent(TimeSpan wait)
    {
        lock (_free)
            if (_free.TryPop(out var slab)) return slab;
        if (Interlocked.Increment(ref _slabs) <= _maxSlabs) return new DatagramSlab(_slabBytes);
        Interlocked.Decrement(ref _slabs);
        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        lock (_free)
        {
            while (true)
            {
                if (_free.TryPop(out var slab)) return slab;
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_free, (int)left)) return _free.TryPop(out slab) ? slab : null;
            }
        }
    }

    /// <summary>Hands a slab with datagrams to the processing threads.</summary>
    public void Enqueue(DatagramSlab slab)
    {
        Interlocked.Add(ref _queuedDatagrams, slab.Count);
        lock (_filled)
        {
            if (_completed) throw new InvalidOperationException("the queue takes no more slabs");
            _filled.Enqueue(slab);
            _waitingSlabs = _filled.Count;
            Monitor.Pulse(_filled);
        }
    }

    /// <summary>The next slab to process, in the order they were filled; false once <see cref="Complete"/> was called and none is left.</summary>
    public bool TryTake(out DatagramSlab slab)
    {
        lock (_filled)
        {
            while (true)
            {
                if (_filled.TryDequeue(out slab!))
                {
                    _waitingSlabs = _filled.Count;
                    return true;
                }
                if (_completed) return false;
                Monitor.Wait(_filled);
            }
        }
    }

    /// <summary>A processed slab goes back to be filled again.</summary>
    public void Return(DatagramSlab slab)
    {
        Interlocked.Add(ref _queuedDatagrams, -slab.Count);
        slab.Clear();
        lock (_free)
        {
            _free.Push(slab);
            Monitor.Pulse(_free);
        }
    }

    /// <summary>No more slabs will be enqueued; the processing threads finish what is queued and stop.</summary>
    public void Complete()
    {
        lock (_filled)
        {
            _completed = true;
            Monitor.PulseAll(_filled);
        }
    }

    /// <summary>Nothing to release: the queue holds no handles (a <c>BlockingCollection</c> did).</summary>
    public void Dispose()
    {
    }
}

/// <summary>
/// Datagrams one after another in one array: per datagram a 2-byte sender length (its top bit: the datagram was
/// cut at the listener's limit), a 4-byte datagram length, the sender's <c>sockaddr</c> and the datagram's bytes. One array per slab, reused, so a datagram costs a copy and no allocation.
/// </summary>
internal sealed class DatagramSlab(int bytes)
{
    private const int HeaderBytes = 6;
    private const ushort TruncatedBit = 0x8000;
    private readonly byte[] _bytes = new byte[bytes];
    private int _used;

    public int Count { get; private set; }

    /// <summary>Room left for one more datagram of <paramref name="length"/> bytes from a sender of <paramref name="senderLength"/>.</summary>
    public bool HasRoom(int senderLength, int length) => _used + HeaderBytes + senderLength + length <= _bytes.Length;

    /// <summary>The most one datagram can take: a slab must be at least this big.</summary>
    public static int RoomFor(int senderLength, int length) => HeaderBytes + senderLength + length;

    public void Append(ReadOnlySpan<byte> sender, ReadOnlySpan<byte> datagram, bool truncated = false)
    {
        var span = _bytes.AsSpan(_used);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)(sender.Length | (truncated ? TruncatedBit : 0)));
        BinaryPrimitives.WriteInt32LittleEndian(span[2..], datagram.Length);
        sender.CopyTo(span[HeaderBytes..]);
        datagram.CopyTo(span[(HeaderBytes + sender.Length)..]);
        _used += HeaderBytes + sender.Length + datagram.Length;
        Count++;
    }

    public void Clear()
    {
        _used = 0;
        Count = 0;
    }

    public Reader Read() => new(_bytes.AsSpan(0, _used));

    /// <summary>Walks a slab's datagrams in the order they were appended.</summary>
    public ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public ReadOnlySpan<byte> Sender { get; private set; }

        public ReadOnlySpan<byte> Datagram { get; private set; }

        /// <summary>The datagram was longer than the listener accepts and was cut.</summary>
        public bool Truncated { get; private set; }

        public bool MoveNext()
        {
            if (_rest.IsEmpty) return false;
            int lengthField = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            Truncated = (lengthField & TruncatedBit) != 0;
            var senderLength = lengthField & ~TruncatedBit;
            var length = BinaryPrimitives.ReadInt32LittleEndian(_rest[2..]);
            Sender = _rest.Slice(HeaderBytes, senderLength);
            Datagram = _rest.Slice(HeaderBytes + senderLength, length);
            _rest = _rest[(HeaderBytes + senderLength + length)..];
            return true;
        }
    }
}
