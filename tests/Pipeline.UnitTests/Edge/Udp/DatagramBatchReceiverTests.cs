using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipeline.Edge.Sources.Syslog.Udp;

namespace Pipeline.UnitTests.Edge.Udp;

public sealed class DatagramBatchReceiverTests
{
    [Fact]
    public void TheBatchReceiverTakesSeveralDatagramsInOneCallWithTheirSendersAndCutsOverlongOnes()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        // SO_RCVTIMEO of 5 s: a call that finds nothing returns 0 instead of blocking the test.
        var timeval = new byte[16];
        BitConverter.TryWriteBytes(timeval, 5L);
        socket.SetRawSocketOption(1, 20, timeval);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        sender.Connect(socket.LocalEndPoint!);
        sender.Send("<13>first"u8);
        sender.Send("<13>second"u8);
        sender.Send(new byte[100]);
        using var receiver = new DatagramBatchReceiver(socket, capacity: 8, slotBytes: 64);

        var received = new List<(string Datagram, bool Truncated, IPEndPoint From)>();
        while (received.Count < 3)
        {
            var count = receiver.Receive();
            Assert.True(count > 0);
            for (var i = 0; i < count; i++)
            {
                var address = new SocketAddress(AddressFamily.InterNetwork);
                receiver.Sender(i).CopyTo(address.Buffer.Span);
                address.Size = receiver.Sender(i).Length;
                received.Add((Encoding.ASCII.GetString(receiver.Datagram(i)).TrimEnd('\0'), receiver.Truncated(i), (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address)));
            }
        }

        Assert.Equal(["<13>first", "<13>second", ""], received.Select(r => r.Datagram));
        Assert.Equal([false, false, true], received.Select(r => r.Truncated));
        Assert.All(received, r => Assert.Equal(sender.LocalEndPoint, r.From));
    }
}
