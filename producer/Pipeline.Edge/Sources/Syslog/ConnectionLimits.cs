using System.Net;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// A stream listener's open connections, in all and per source address: a new one is admitted only within both
/// limits, so one client (or one misbehaving relay) cannot hold every connection the listener allows.
/// </summary>
internal sealed class ConnectionLimits(int max, int perAddress)
{
    /// <summary>Label of a connection refused because the listener is full.</summary>
    public const string ListenerFull = "limit";

    /// <summary>Label of a connection refused because its address holds as many as it may.</summary>
    public const string AddressFull = "address_limit";

    private readonly Dictionary<IPAddress, int> _byAddress = [];
    private readonly Lock _lock = new();
    private int _open;

    public int Open => Volatile.Read(ref _open);

    /// <summary>Admits a connection from <paramref name="address"/> (null), or says why not (<see cref="ListenerFull"/>, <see cref="AddressFull"/>).</summary>
    public string? TryAdmit(IPAddress address)
    {
        lock (_lock)
        {
            if (_open >= max) return ListenerFull;
            _byAddress.TryGetValue(address, out var held);
            if (held >= perAddress) return AddressFull;
            _byAddress[address] = held + 1;
            _open++;
            return null;
        }
    }

    /// <summary>Gives back a connection <see cref="TryAdmit"/> admitted.</summary>
    public void Release(IPAddress address)
    {
        lock (_lock)
        {
            var held = _byAddress[address] - 1;
            if (held == 0) _byAddress.Remove(address);
            else _byAddress[address] = held;
            _open--;
        }
    }
}
