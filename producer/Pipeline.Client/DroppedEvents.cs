namespace Pipeline.Client;

/// <summary>Why events were dropped instead of sent.</summary>
public enum DropReason
{
    /// <summary>The queue was full (the edge was unreachable or slower than the application for too long).</summary>
    QueueFull,

    /// <summary>The event was larger than <see cref="PipelineClientOptions.MaxEventBytes"/>, or the edge said so.</summary>
    TooLarge,

    /// <summary>The edge refused the event for good (it was not a valid event).</summary>
    Rejected,

    /// <summary>Still unsent when the client was disposed and <see cref="PipelineClientOptions.ShutdownTimeout"/> ran out.</summary>
    Shutdown,

    /// <summary>The event could not be written (a value's <c>ToString</c> threw, a formatter failed).</summary>
    Unwritable,
}

/// <summary>Events dropped together, and why.</summary>
public readonly record struct DroppedEvents(DropReason Reason, int Count);
