using BenchmarkDotNet.Attributes;
using Neptun.Session;

namespace Neptun.Chat.Benchmarks;

/// <summary>What every request pays before it reaches the database: reading the neptun-session cookie.</summary>
[MemoryDiagnoser]
public class SessionBenchmarks
{
    private const string Password = "a-benchmark-session-password-of-48-characters-xx";
    // Twice as many seals as the reader keeps, read in turn: none is ever still known.
    private const int NewSeals = 8192;
    private SessionReader _reader = null!;
    private string _cookieHeader = null!;
    private string[] _newCookieHeaders = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _reader = new SessionReader(new SessionReaderOptions { Password = Password }, TimeProvider.System);
        var seal = IronSealer.SealSession(new SessionUser(123, "ada@bench.test"), Password, DateTimeOffset.UtcNow);
        _cookieHeader = CookieHeader(seal);
        _newCookieHeaders = Enumerable.Range(0, NewSeals)
            .Select(i => CookieHeader(IronSealer.SealSession(new SessionUser(i + 1, "ada@bench.test"), Password, DateTimeOffset.UtcNow)))
            .ToArray();
    }

    /// <summary>A browser's next request: the same cookie as before, answered from the reader's memory.</summary>
    [Benchmark]
    public int ReadKnownCookie() => _reader.Read(null, _cookieHeader).User?.Id ?? throw new InvalidOperationException("rejected");

    /// <summary>A cookie the reader has not opened yet: two key derivations, a MAC and a decryption.</summary>
    [Benchmark]
    public int ReadNewCookie() =>
        _reader.Read(null, _newCookieHeaders[_next++ % NewSeals]).User?.Id ?? throw new InvalidOperationException("rejected");

    // As browsers send it: other cookies around the session.
    private static string CookieHeader(string seal) => $"theme=dark; neptun-session={seal}; i18n_redirected=en";
}
