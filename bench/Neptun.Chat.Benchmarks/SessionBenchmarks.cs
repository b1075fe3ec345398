using BenchmarkDotNet.Attributes;
using Neptun.Session;

namespace Neptun.Chat.Benchmarks;

/// <summary>What every request pays before it reaches the database: reading the neptun-session cookie.</summary>
[MemoryDiagnoser]
public class SessionBenchmarks
{
    private const string Password = "a-benchmark-session-password-of-48-characters-xx";
    private SessionReader _reader = null!;
    private string _cookieHeader = null!;

    [GlobalSetup]
    public void Setup()
    {
        _reader = new SessionReader(new SessionReaderOptions { Password = Password }, TimeProvider.System);
        var seal = IronSealer.SealSession(new SessionUser(123, "ada@bench.test"), Password, DateTimeOffset.UtcNow);
        // As browsers send it: other cookies around the session.
        _cookieHeader = $"theme=dark; neptun-session={seal}; i18n_redirected=en";
    }

    [Benchmark]
    public int UnsealCookie() => _reader.Read(null, _cookieHeader).User?.Id ?? throw new InvalidOperationException("rejected");
}
