using System.Globalization;
using System.Text;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Session;

namespace Neptun.Chat.Service.IntegrationTests.Hostile;

/// <summary>One generated REST request: raw path segments, raw body bytes, headers.</summary>
public sealed record HostileRequest(string Kind, string UserSegment, string ProjectSegment, byte[] Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    public override string ToString() =>
        $"{Kind}: /api/users/{UserSegment}/projects/{ProjectSegment}/chats, {Body.Length} bytes, {ContentType}, headers [{string.Join(", ", Headers.Select(h => h.Name))}]";
}

/// <summary>
/// A seeded generator of hostile REST input. Seeded rather than shrinking (CsCheck, FsCheck): every
/// failure names its seed and round and prints the request, which is all that is needed to replay it.
/// </summary>
public sealed class HostileInput(int seed, int adaProjectId, int graceProjectId)
{
    private static readonly string[] Models = [NeptunApiFixture.ValidModel, "qwen/Qwen2.5-72B-Instruct", "gpt-4", "", "GOOGLE/GEMMA-2-27B-IT", "google/gemma-2-27b-it\u0000"];
    private static readonly string[] Names =
    [
        "Project Discussion", "ab", "abc", "'; DROP TABLE chat_conversation; --", "<script>alert(1)</script>", "%s%n{0}${x}",
        "\u0000\u0001\u001f\u007f", "\u202Eevil\u202C", "e\u0301\u0301\u0301", "\uD83D\uDE00\uD83D\uDE00", "\uD800 lone", new string('x', 257), new string('y', 256),
    ];

    private static readonly string[] ContentTypes =
        ["application/json", "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "APPLICATION/JSON", ""];

    private readonly Random _random = new(seed);
    private readonly string _adaSeal = Sessions.SealFor(NeptunApiFixture.AdaId);
    private readonly string _graceSeal = Sessions.SealFor(NeptunApiFixture.GraceId);

    public HostileRequest Next()
    {
        var headers = new List<(string, string)>();
        var session = NextSession(out var sessionKind);
        if (session is not null)
        {
            headers.Add(_random.Next(4) == 0 ? (SessionReaderOptions.HeaderName, session) : ("Cookie", $"neptun-session={session}"));
        }

        for (var i = _random.Next(4); i > 0; i--)
        {
            headers.Add(NextHeader());
        }

        var (bodyKind, body) = NextBody();
        var contentType = ContentTypes[_random.Next(ContentTypes.Length)];
        return new HostileRequest($"{sessionKind} session, {bodyKind} body", NextSegment(NeptunApiFixture.AdaId), NextSegment(adaProjectId), body,
            contentType.Length == 0 ? null : contentType, headers);
    }

    /// <summary>A seal broken in one of many ways; never a valid session.</summary>
    public string MangledSeal()
    {
        var parts = _adaSeal.Split('*');
        return _random.Next(8) switch
        {
            0 => _adaSeal[.._random.Next(_adaSeal.Length)],
            1 => DropPart(parts, _random.Next(parts.Length)),
            2 => string.Join('*', parts.Append(RandomText(20))),
            3 => Replace(_adaSeal, _random.Next(_adaSeal.Length), "!#$'(),/:;=?@[]~ \t"[_random.Next(18)]),
            4 => string.Join('*', parts.Select((part, i) => i == 4 ? "%%not-base64%%" + part : part)),
            5 => IronSealer.Seal(GarbageJson(), SessionVectors.Password),
            6 => _adaSeal + new string('A', _random.Next(5_000, 60_000)),
            _ => RandomText(_random.Next(1, 400)),
        };
    }

    private string? NextSession(out string kind)
    {
        switch (_random.Next(6))
        {
            case 0:
                kind = "no";
                return null;
            case 1:
            case 2:
                kind = "mangled";
                return MangledSeal();
            case 3:
                kind = "grace";
                return _graceSeal;
            default:
                kind = "ada";
                return _adaSeal;
        }
    }

    private string NextSegment(int good) => _random.Next(10) switch
    {
        < 5 => good.ToString(CultureInfo.InvariantCulture),
        5 => (_random.Next(3) switch { 0 => graceProjectId, 1 => NeptunApiFixture.GraceId, _ => 999_999 }).ToString(CultureInfo.InvariantCulture),
        6 => _random.Next(3) switch { 0 => "0", 1 => "-1", _ => "2147483648" },
        7 => "99999999999999999999999",
        8 => "1e3",
        // TestServer cannot carry a NUL in a path (Kestrel refuses one itself).
        _ => RandomText(_random.Next(1, 40)).Replace('\0', '0'),
    };

    private (string Name, string Value) NextHeader() => _random.Next(6) switch
    {
        0 => ("Idempotency-Key", _random.Next(2) == 0 ? Guid.NewGuid().ToString() : RandomAscii(_random.Next(0, 80))),
        1 => ("X-Forwarded-For", RandomAscii(30)),
        2 => ("Accept", RandomAscii(20)),
        3 => ("Cookie", $"other={RandomAscii(10)}; neptun-session="),
        4 => ("X-" + RandomAscii(8).Replace(':', 'x'), RandomAscii(_random.Next(0, 2000))),
        _ => ("grpc-timeout", RandomAscii(5)),
    };

    private (string Kind, byte[] Body) NextBody()
    {
        switch (_random.Next(12))
        {
            case 0:
                return ("random bytes", RandomBytes(_random.Next(0, 300)));
            case 1:
                // Invalid UTF-8 inside a string value.
                var prefix = Encoding.UTF8.GetBytes("""{"model":"google/gemma-2-27b-it","name":"ab""");
                return ("invalid utf-8", [.. prefix, 0xC3, 0x28, 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("cd\"}")]);
            case 2:
                return ("duplicate keys", Utf8($$"""{"name":{{Json(Pick(Names))}},"model":{{Json(Pick(Models))}},"name":{{Json(Pick(Names))}}}"""));
            case 3:
                return ("wrong types", Utf8($$"""{"model":{{WrongValue()}},"name":{{WrongValue()}}}"""));
            case 4:
                return ("deep nesting", Utf8(new string('[', _random.Next(10, 3000)) + new string(']', _random.Next(0, 3000))));
            case 5:
                return ("huge string", Utf8($$"""{"model":"google/gemma-2-27b-it","name":"{{new string('h', _random.Next(1_000, 90_000))}}"}"""));
            case 6:
                return ("path ids in the body", Utf8($$"""{"model":"google/gemma-2-27b-it","name":"In body","user_id":{{WrongValue()}},"project_id":{{graceProjectId}}}"""));
            case 7:
                return ("truncated json", Utf8("""{"model":"google/gemma-2-27b-it","name":"Trunc""".Substring(0, _random.Next(1, 40))));
            default:
                return ("plausible", Utf8($$"""{"model":{{Json(Pick(Models))}},"name":{{Json(Pick(Names))}}}"""));
        }
    }

    private string WrongValue() => _random.Next(9) switch
    {
        0 => "2147483648",
        1 => "-9223372036854775809",
        2 => "1.5e308",
        3 => "true",
        4 => "null",
        5 => "[\"a\",1]",
        6 => "{\"a\":{\"b\":{}}}",
        7 => "\"\\u0000\\ud800\"",
        _ => Json(RandomText(10)),
    };

    private T Pick<T>(T[] values) => values[_random.Next(values.Length)];

    private static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private string GarbageJson() => _random.Next(4) switch
    {
        0 => "{\"user\":{\"id\":\"123\"}}",
        1 => "{\"user\":{\"id\":-5}}",
        2 => "[1,2,3]",
        _ => RandomText(30),
    };

    private string RandomText(int length)
    {
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(_random.Next(5) switch
            {
                0 => (char)_random.Next(0, 32),
                1 => (char)_random.Next(0x80, 0x800),
                2 => (char)_random.Next(0xD800, 0xE000),
                _ => (char)_random.Next(32, 127),
            });
        }

        return text.ToString();
    }

    private string RandomAscii(int length) => new([.. Enumerable.Range(0, length).Select(_ => (char)_random.Next(33, 127))]);

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private static string DropPart(string[] parts, int index) => string.Join('*', parts.Where((_, i) => i != index));

    private static string Replace(string text, int at, char with) => string.Concat(text.AsSpan(0, at), [with], text.AsSpan(at + 1));
}
