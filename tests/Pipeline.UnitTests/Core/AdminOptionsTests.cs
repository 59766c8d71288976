using System.Net;
using Pipeline.Core.Hosting;
using Pipeline.Core.Security;

namespace Pipeline.UnitTests.Core;

public sealed class AdminOptionsTests
{
    [Theory]
    [InlineData("", null)]
    [InlineData("9180", "127.0.0.1:9180")]
    [InlineData("0.0.0.0:9180", "0.0.0.0:9180")]
    [InlineData("[::1]:9180", "[::1]:9180")]
    public void APortAloneIsLoopbackAndNothingIsNoAdminListener(string bind, string? expected) =>
        Assert.Equal(expected, new AdminOptions { Bind = bind }.Endpoint()?.ToString());

    [Theory]
    [InlineData("nine")]
    [InlineData("0")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    public void AnythingElseIsAConfigurationError(string bind) =>
        Assert.Contains("Admin:Bind", Assert.Throws<ArgumentException>(() => new AdminOptions { Bind = bind }.Endpoint()).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadEndpointsBeyondLoopbackWithoutATokenAreRefusedAndOnLoopbackNeedNone()
    {
        var error = Assert.Throws<ArgumentException>(() => ReadAccess.For(IPEndPoint.Parse("0.0.0.0:9103"), [], "Http:ReadTokens"));
        Assert.Contains("Http:ReadTokens:0:Token", error.Message, StringComparison.Ordinal);
        Assert.False(ReadAccess.For(IPEndPoint.Parse("127.0.0.1:9103"), [], "Http:ReadTokens").Required);
        Assert.True(ReadAccess.For(IPEndPoint.Parse("0.0.0.0:9103"), [new AccessToken { Token = "t" }], "Http:ReadTokens").Required);
    }

    [Fact]
    public void ATokenTableFindsTheOwnerOfAKnownTokenGivenAsItselfOrAsItsHash()
    {
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("second"u8));
        var table = new TokenTable<string>([(new AccessToken { Token = "first" }, "a"), (new AccessToken { TokenSha256 = hash }, "b")]);
        Assert.True(table.TryFind("second", out var owner));
        Assert.Equal("b", owner);
        Assert.False(table.TryFind("third", out _));
    }
}
