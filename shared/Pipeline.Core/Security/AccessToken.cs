using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Core.Security;

/// <summary>
/// A bearer token named in configuration: the token itself (from the environment or a secret file, never a committed
/// file) or only its SHA-256, so that the configuration need not hold the secret at all.
/// </summary>
public class AccessToken
{
    /// <summary>The token itself. Give this or <see cref="TokenSha256"/>.</summary>
    public string? Token { get; set; }

    /// <summary>The token's SHA-256, 64 hex digits (<c>printf %s "$TOKEN" | sha256sum</c>).</summary>
    public string? TokenSha256 { get; set; }

    /// <summary>The SHA-256 of the token, the only form kept in memory for comparisons.</summary>
    public byte[] Hash() => TokenSha256 is { Length: > 0 } hex ? Convert.FromHexString(hex) : SHA256.HashData(Encoding.UTF8.GetBytes(Token!));

    /// <summary>Checks that exactly one form is given and the hash is well formed; <paramref name="where"/> names the setting in the message.</summary>
    public void Validate(string where)
    {
        if (string.IsNullOrEmpty(Token) && string.IsNullOrEmpty(TokenSha256))
            throw new ArgumentException($"{where}: no token (Token and TokenSha256 are empty: is the variable that sets it unset?)");
        if (!string.IsNullOrEmpty(Token) && !string.IsNullOrEmpty(TokenSha256))
            throw new ArgumentException($"{where}: give exactly one of Token or TokenSha256");
        if (TokenSha256 is { Length: > 0 } hash && (hash.Length != 64 || !hash.All(Uri.IsHexDigit)))
            throw new ArgumentException($"{where}: TokenSha256 must be 64 hex digits");
    }
}

/// <summary>
/// Known tokens, kept as SHA-256 hashes, each with what it stands for. A presented token is hashed and compared
/// with every known one in constant time, so that timing says nothing about which one nearly matched.
/// </summary>
public sealed class TokenTable<TOwner> where TOwner : notnull
{
    private readonly (byte[] Hash, TOwner Owner)[] _tokens;

    public TokenTable(IEnumerable<(AccessToken Token, TOwner Owner)> tokens) =>
        _tokens = tokens.Select(t => (t.Token.Hash(), t.Owner)).ToArray();

    public int Count => _tokens.Length;

    /// <summary>What <paramref name="presented"/> stands for, or false when it is no known token.</summary>
    public bool TryFind(string presented, out TOwner owner)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var found = false;
        owner = default!;
        foreach (var (known, who) in _tokens)
        {
            if (!CryptographicOperations.FixedTimeEquals(hash, known) || found) continue;
            owner = who;
            found = true;
        }
        return found;
    }
}
