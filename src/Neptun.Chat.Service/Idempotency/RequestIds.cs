using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.Idempotency;

/// <summary>
/// The request id of an idempotent create: the request's <c>request_id</c> (AIP-155) or, for REST
/// callers, the <c>Idempotency-Key</c> header (IETF httpapi draft), which is a structured-field
/// string and so may come quoted.
/// </summary>
public static class RequestIds
{
    public const string HeaderName = "Idempotency-Key";

    /// <summary>
    /// False when an id is given but is not a UUID, or when the field and the <see cref="HeaderName"/>
    /// header (<paramref name="header"/>: its values, none when absent) disagree.
    /// </summary>
    public static bool TryRead(CreateProjectChatRequest request, StringValues header, out Guid? requestId)
    {
        requestId = null;
        Guid? fromBody = null;
        Guid? fromHeader = null;
        if (request.RequestId.Length > 0)
        {
            if (!TryParse(request.RequestId, out var id))
            {
                return false;
            }

            fromBody = id;
        }

        if (header.Count > 1)
        {
            return false;
        }

        if (header.Count == 1)
        {
            if (!TryParse(Unquote(header[0]!.Trim()), out var id))
            {
                return false;
            }

            fromHeader = id;
        }

        if (fromBody is not null && fromHeader is not null && fromBody != fromHeader)
        {
            return false;
        }

        requestId = fromBody ?? fromHeader;
        return true;
    }

    /// <summary>
    /// What the request asks for, apart from the user (who is part of the key): a repeated id with
    /// another fingerprint is a different request. Fields are length-prefixed so that no two
    /// requests share an encoding.
    /// </summary>
    public static byte[] Fingerprint(CreateProjectChatRequest request)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, request.ProjectId);
        hash.AppendData(number);
        foreach (var text in (ReadOnlySpan<string>)[request.Model, request.Name])
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            BinaryPrimitives.WriteInt32BigEndian(number, bytes.Length);
            hash.AppendData(number);
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset();
    }

    private static bool TryParse(string text, out Guid id) => Guid.TryParseExact(text, "D", out id);

    private static string Unquote(string text) =>
        text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1] : text;
}
