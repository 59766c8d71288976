namespace Pipeline.Consumers.Siem;

/// <summary>Alerts from detection rules (section <c>Siem:Alerts</c>): always archived; published to Kafka from the archive.</summary>
public sealed class AlertOptions
{
    /// <summary>Name of the Kafka publisher's forwarding cursor; no forwarder may take it.</summary>
    public const string CursorName = "kafka-alerts";

    /// <summary>Publish archived alerts to Kafka. Default true.</summary>
    public bool Publish { get; set; } = true;

    /// <summary>Topic alerts are published to (as v1 envelopes, kind <c>event</c>). Default <c>alerts</c>.</summary>
    public string Topic { get; set; } = "alerts";

    public void Validate()
    {
        if (Publish && string.IsNullOrWhiteSpace(Topic)) throw new ArgumentException("Siem:Alerts:Topic is required when publishing alerts");
    }
}
