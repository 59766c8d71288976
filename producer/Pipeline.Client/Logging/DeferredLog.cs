using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Pipeline.Client.Delivery;
using Pipeline.Client.Encoding;

namespace Pipeline.Client.Logging;

/// <summary>What writing a log entry needs besides the entry: the client's identity and event size limit.</summary>
internal sealed record LogEncoding(ClientIdentity Identity, int MaxEventBytes);

/// <summary>
/// A log entry as the application handed it over: its state (a struct copy for source-generated and
/// <c>LoggerMessage</c> entries), formatter, exception, the scopes active at the call, and the time. It is written to
/// JSON on the delivery task, so a log call costs the application little more than handing these over — as
/// OpenTelemetry's exporter does, values that are mutable objects are read when the entry is written, a moment
/// after the call. Items are pooled per state type.
/// </summary>
internal sealed class DeferredLog<TState> : DeferredEvent
{
    // Items kept for reuse per state type, at most; more are left to the collector.
    private const int PoolLimit = 1024;
    private static readonly ConcurrentQueue<DeferredLog<TState>> Pool = new();
    private static int s_pooled;

    private LogEncoding _encoding = null!;
    private string _category = "";
    private LogLevel _level;
    private EventId _eventId;
    private TState _state = default!;
    private Exception? _exception;
    private Func<TState, Exception?, string> _formatter = null!;
    private DateTimeOffset _time;

    /// <summary>The scope objects active at the call, outermost first.</summary>
    public List<object?> Scopes { get; } = [];

    public static DeferredLog<TState> Rent(LogEncoding encoding, string category, LogLevel level, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter, DateTimeOffset time)
    {
        if (!Pool.TryDequeue(out var item)) item = new DeferredLog<TState>();
        else Interlocked.Decrement(ref s_pooled);
        (item._encoding, item._category, item._level, item._eventId, item._state, item._exception, item._formatter, item._time) =
            (encoding, category, level, eventId, state, exception, formatter, time);
        return item;
    }

    public override EncodedEvent? Encode(out DropReason? dropped)
    {
        try
        {
            var writer = EventWriter.ForCurrentThread;
            var w = writer.Begin("log", _time, _encoding.Identity);
            LogRecordWriter.Write(writer, w, _category, _level, _eventId, _state, _exception, _formatter, Scopes);
            var encoded = writer.End(_encoding.MaxEventBytes);
            dropped = encoded is null ? DropReason.TooLarge : null;
            return encoded;
        }
        catch (Exception)
        {
            // A value's ToString or the formatter threw: this entry is lost, counted; the application never sees it.
            dropped = DropReason.Unwritable;
            return null;
        }
        finally
        {
            Discard();
        }
    }

    public override void Discard()
    {
        _state = default!;
        _exception = null;
        _formatter = null!;
        Scopes.Clear();
        if (Interlocked.Increment(ref s_pooled) <= PoolLimit) Pool.Enqueue(this);
        else Interlocked.Decrement(ref s_pooled);
    }
}
