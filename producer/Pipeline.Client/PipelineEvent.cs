using Pipeline.Client.Encoding;

namespace Pipeline.Client;

/// <summary>
/// An event with fields of its own, in the spirit of an observability SDK's event: add fields while the work goes on,
/// then <see cref="Send"/>; the time between <see cref="PipelineClient.NewEvent"/> and <see cref="Send"/> is recorded as
/// <c>dur_ms</c>, and its sample rate as <c>sample_rate</c>. Not thread-safe: one event belongs to one piece of work.
/// </summary>
public sealed class PipelineEvent
{
    private readonly PipelineClient _client;
    private readonly List<KeyValuePair<string, object?>> _fields = [];
    private bool _sent;

    internal PipelineEvent(PipelineClient client, string dataset, long started)
    {
        _client = client;
        Dataset = dataset;
        Started = started;
    }

    /// <summary>The dataset the event belongs to (routes can match it as the field <c>dataset</c>).</summary>
    public string Dataset { get; }

    /// <summary>Keep 1 in N events like this one; overrides the dataset's and the client's rate. Default: theirs.</summary>
    public int? SampleRate { get; set; }

    internal long Started { get; }

    /// <summary>Adds a field (a later one of the same name wins).</summary>
    public PipelineEvent Add(string name, object? value)
    {
        _fields.Add(new(name, value));
        return this;
    }

    /// <summary>Sends the event (once; later calls do nothing). Returns at once, whatever the edge is doing.</summary>
    public void Send()
    {
        if (_sent) return;
        _sent = true;
        _client.Send(this);
    }

    internal void WriteFields(EventWriter writer)
    {
        if (_fields.Count == 0) return;
        writer.BeginFields();
        for (var i = 0; i < _fields.Count; i++)
            if (!AddedAgainLater(i)) writer.Field(_fields[i].Key, _fields[i].Value);
        writer.EndFields();
    }

    private bool AddedAgainLater(int index)
    {
        for (var later = index + 1; later < _fields.Count; later++)
            if (string.Equals(_fields[later].Key, _fields[index].Key, StringComparison.Ordinal)) return true;
        return false;
    }
}
