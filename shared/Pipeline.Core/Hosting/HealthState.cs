using System.Collections.Concurrent;

namespace Pipeline.Core.Hosting;

/// <summary>
/// What each component of a process says about its health; <c>/healthz</c> is 200 only when all are healthy.
/// Components report on state changes (connected, degraded), never per event.
/// </summary>
public sealed class HealthState
{
    private readonly ConcurrentDictionary<string, (bool Healthy, string Detail)> _components = new(StringComparer.Ordinal);

    public void Report(string component, bool healthy, string detail = "") =>
        _components[component] = (healthy, detail);

    public bool IsHealthy => _components.Values.All(c => c.Healthy);

    public IReadOnlyDictionary<string, (bool Healthy, string Detail)> Snapshot() =>
        new Dictionary<string, (bool Healthy, string Detail)>(_components, StringComparer.Ordinal);
}
