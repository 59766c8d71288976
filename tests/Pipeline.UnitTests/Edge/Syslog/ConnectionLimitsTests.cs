using System.Net;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class ConnectionLimitsTests
{
    private static readonly IPAddress One = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress Two = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void AnAddressAtItsLimitIsRefusedWhileAnotherIsAdmittedAndItMayConnectAgainOnceOneCloses()
    {
        var limits = new ConnectionLimits(max: 10, perAddress: 2);
        Assert.Null(limits.TryAdmit(One));
        Assert.Null(limits.TryAdmit(One));
        Assert.Equal(ConnectionLimits.AddressFull, limits.TryAdmit(One));
        Assert.Null(limits.TryAdmit(Two));
        Assert.Equal(3, limits.Open);
        limits.Release(One);
        Assert.Null(limits.TryAdmit(One));
    }

    [Fact]
    public void AFullListenerRefusesEveryAddressUntilAConnectionCloses()
    {
        var limits = new ConnectionLimits(max: 2, perAddress: 2);
        Assert.Null(limits.TryAdmit(One));
        Assert.Null(limits.TryAdmit(Two));
        Assert.Equal(ConnectionLimits.ListenerFull, limits.TryAdmit(IPAddress.Parse("10.0.0.3")));
        limits.Release(Two);
        Assert.Null(limits.TryAdmit(IPAddress.Parse("10.0.0.3")));
        Assert.Equal(2, limits.Open);
    }
}
