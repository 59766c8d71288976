using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Pipeline.Edge.Sources.Syslog.Udp;

/// <summary>
/// Takes up to <see cref="Capacity"/> datagrams from a UDP socket in one system call (Linux <c>recvmmsg</c>)
/// into native buffers it owns. One call per batch instead of one per datagram is what lets a single thread
/// keep a socket drained at several hundred thousand datagrams a second. One instance per receiving thread.
/// </summary>
internal sealed unsafe partial class DatagramBatchReceiver : IDisposable
{
    private const int MsgWaitForOne = 0x10000;
    private const int MsgTrunc = 0x20;
    private const int Eintr = 4;
    private const int Eagain = 11;
    // sizeof(struct sockaddr_storage): room for any address family.
    private const int AddressSlot = 128;

    private readonly Socket _socket;
    private readonly int _slot;
    private readonly byte* _data;
    private readonly byte* _addresses;
    private readonly IoVector* _vectors;
    private readonly MultiMessageHeader* _headers;

    /// <param name="socket">A bound UDP socket; its receive timeout bounds how long <see cref="Receive"/> blocks.</param>
    /// <param name="capacity">Datagrams per call at most.</param>
    /// <param name="slotBytes">Room per datagram; a longer one is cut to this and flagged <see cref="Truncated"/>.</param>
    public DatagramBatchReceiver(Socket socket, int capacity, int slotBytes)
    {
        _socket = socket;
        Capacity = capacity;
        _slot = slotBytes;
        _data = (byte*)NativeMemory.Alloc((nuint)capacity, (nuint)slotBytes);
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)capacity, AddressSlot);
        _vectors = (IoVector*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(IoVector));
        _headers = (MultiMessageHeader*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MultiMessageHeader));
        for (var i = 0; i < capacity; i++)
        {
            _vectors[i] = new IoVector { Base = _data + (long)i * slotBytes, Length = (nuint)slotBytes };
            _headers[i].Header.Vectors = &_vectors[i];
            _headers[i].Header.VectorCount = 1;
            _headers[i].Header.Name = _addresses + (long)i * AddressSlot;
        }
    }

    public int Capacity { get; }

    /// <summary>
    /// Blocks until at least one datagram is there (or the socket's receive timeout passes), then takes every
    /// datagram already queued, up to <see cref="Capacity"/>. Returns how many; 0 after a timeout or a signal.
    /// </summary>
    /// <exception cref="SocketException">The socket failed or was closed.</exception>
    public int Receive()
    {
        for (var i = 0; i < Capacity; i++) _headers[i].Header.NameLength = AddressSlot;
        var received = recvmmsg((int)_socket.Handle, _headers, (uint)Capacity, MsgWaitForOne, null);
        if (received >= 0) return received;
        var errno = Marshal.GetLastPInvokeError();
        if (errno is Eagain or Eintr) return 0;
        throw new SocketException(errno);
    }

    /// <summary>The <paramref name="index"/>th datagram of the last <see cref="Receive"/>.</summary>
    public ReadOnlySpan<byte> Datagram(int index) => new(_data + (long)index * _slot, (int)_headers[index].Length);

    /// <summary>Whether the datagram was longer than its slot (and cut to it).</summary>
    public bool Truncated(int index) => (_headers[index].Header.Flags & MsgTrunc) != 0;

    /// <summary>The sender's address as the kernel gave it (a <c>sockaddr_in</c> or <c>sockaddr_in6</c>).</summary>
    public ReadOnlySpan<byte> Sender(int index) => new(_addresses + (long)index * AddressSlot, (int)_headers[index].Header.NameLength);

    public void Dispose()
    {
        NativeMemory.Free(_data);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_vectors);
        NativeMemory.Free(_headers);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int recvmmsg(int socket, MultiMessageHeader* messages, uint count, int flags, void* timeout);

    // struct iovec
    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    // struct msghdr (x86-64 and arm64 Linux layout)
    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public byte* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    // struct mmsghdr
    [StructLayout(LayoutKind.Sequential)]
    private struct MultiMessageHeader
    {
        public MessageHeader Header;
        public uint Length;
    }
}
