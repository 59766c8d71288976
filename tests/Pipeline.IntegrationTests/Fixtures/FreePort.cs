using System.Net;
using System.Net.Sockets;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Loopback ports nobody is using (TCP and UDP alike), for the processes a test starts.</summary>
internal static class FreePort
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
                if (Handed.Contains(port)) continue;
                try
                {
                    using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                }
                catch (SocketException)
                {
                    continue;
                }
                Handed.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException("no free loopback port");
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive free loopback ports, for a program that takes a base
    /// port and uses the ones after it.
    /// </summary>
    public static int Consecutive(int count)
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                var first = Next();
                var rest = Enumerable.Range(first + 1, count - 1).ToList();
                if (rest.Any(p => p > IPEndPoint.MaxPort || Handed.Contains(p) || !IsFree(p))) continue;
                Handed.UnionWith(rest);
                return first;
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free loopback ports");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Whether something accepts TCP connections on this loopback port (a daemon a test started is up).</summary>
    public static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
