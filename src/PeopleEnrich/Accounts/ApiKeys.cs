using System.Security.Cryptography;
using System.Text;

namespace PeopleEnrich.Accounts;

/// <summary>
/// API keys: 256 random bits behind a recognisable "pe_" prefix. Only a SHA-256 hash is stored (a
/// slow hash adds nothing for keys of this entropy); the first characters are kept in clear as a
/// lookup handle that can also be shown and used to revoke a key.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "pe_";
    public const int LookupLength = 11;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Generate() => Prefix + RandomNumberGenerator.GetString(Alphabet, 43);

    public static string LookupPrefix(string key) => key.Length <= LookupLength ? key : key[..LookupLength];

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static bool Matches(string presented, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);
}
