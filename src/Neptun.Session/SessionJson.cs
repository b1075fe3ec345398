using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Neptun.Session;

/// <summary>The h3 session object <c>{id, createdAt, data: {user: {id, primary_email}, loggedInAt}}</c>, read and written.</summary>
internal static class SessionJson
{
    // JSON.stringify leaves '+', '<' and non-ASCII as they are; so do we, to seal what the web app would.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="maxAgeMilliseconds">null when no maximum age applies, as in h3 without maxAge.</param>
    /// <param name="validBefore">For a session with a user: the first moment (Unix ms) its age rejects it.</param>
    public static SessionReadResult Read(ReadOnlySpan<byte> json, long nowMilliseconds, long? maxAgeMilliseconds, out long validBefore)
    {
        validBefore = long.MaxValue;
        Fields fields = default;
        fields.EmailStart = -1;

        // iron returns null for an empty plaintext instead of parsing it: a session without a user.
        if (!json.IsEmpty)
        {
            try
            {
                ReadDocument(json, ref fields);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return SessionReadResult.Rejected(SessionRejection.Undecryptable);
            }
        }

        // h3 checks maxAge before handing the session out, so an old session is rejected whatever it holds.
        // A missing or zero createdAt counts as -Infinity there, hence too old.
        if (maxAgeMilliseconds is long maxAge
            && (fields.CreatedAt is not double createdAt || createdAt == 0 || nowMilliseconds - createdAt > maxAge))
        {
            return SessionReadResult.Rejected(SessionRejection.TooOld);
        }

        if (fields.UserId == 0)
        {
            return SessionReadResult.Rejected(SessionRejection.NoUser);
        }

        if (maxAgeMilliseconds is long limit)
        {
            // Too old once now - createdAt > limit; now is whole milliseconds.
            validBefore = (long)Math.Floor(fields.CreatedAt!.Value + limit) + 1;
        }

        return new SessionReadResult(new SessionUser(fields.UserId, ReadEmail(json, fields.EmailStart)), SessionRejection.None);
    }

    public static byte[] Write(SessionUser user, DateTimeOffset createdAt)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, Guid.NewGuid().ToString());
            writer.WriteNumber("createdAt"u8, createdAt.ToUnixTimeMilliseconds());
            writer.WriteStartObject("data"u8);
            writer.WriteStartObject("user"u8);
            writer.WriteNumber("id"u8, user.Id);
            writer.WriteString("primary_email"u8, user.PrimaryEmail);
            writer.WriteEndObject();
            // Date.prototype.toISOString: always UTC, always milliseconds.
            writer.WriteString("loggedInAt"u8, createdAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void ReadDocument(ReadOnlySpan<byte> json, ref Fields fields)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            // JSON.parse keeps the last of duplicate keys, so every key overwrites what an earlier one set.
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("createdAt"u8))
                {
                    reader.Read();
                    fields.CreatedAt = reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double value) ? value : null;
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    fields.ClearUser();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadData(ref reader, ref fields);
                    }
                }

                reader.Skip();
            }
        }
        else
        {
            // Any other JSON value parses but carries no session fields.
            reader.Skip();
        }

        // Trailing content throws here, as JSON.parse would reject it.
        if (reader.Read())
        {
            throw new JsonException();
        }
    }

    private static void ReadData(ref Utf8JsonReader reader, ref Fields fields)
    {
        while (NextProperty(ref reader))
        {
            bool isUser = reader.ValueTextEquals("user"u8);
            reader.Read();
            if (isUser)
            {
                fields.ClearUser();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadUser(ref reader, ref fields);
                }
            }

            reader.Skip();
        }
    }

    private static void ReadUser(ref Utf8JsonReader reader, ref Fields fields)
    {
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                fields.UserId = reader.TokenType == JsonTokenType.Number ? ToUserId(ref reader) : 0;
            }
            else if (reader.ValueTextEquals("primary_email"u8))
            {
                reader.Read();
                // Only where it starts: the string is made once the session is known to be good.
                fields.EmailStart = reader.TokenType == JsonTokenType.String ? reader.TokenStartIndex : -1;
            }

            // From a property name this skips its value; from a value just read, it skips what is left of it.
            reader.Skip();
        }
    }

    // Moves to the next property name of the current object; false at its end.
    private static bool NextProperty(ref Utf8JsonReader reader) =>
        reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    // A JS number is an integer when it has no fraction, however it is written (123.0 and 1.23e2 are 123).
    private static int ToUserId(ref Utf8JsonReader reader)
    {
        if (reader.TryGetInt32(out int id))
        {
            return id >= 1 ? id : 0;
        }

        return reader.TryGetDouble(out double value) && value >= 1 && value <= int.MaxValue && Math.Floor(value) == value
            ? (int)value
            : 0;
    }

    private static string? ReadEmail(ReadOnlySpan<byte> json, long start)
    {
        if (start < 0)
        {
            return null;
        }

        // The string token is the first value of this slice; what follows it is never read.
        var reader = new Utf8JsonReader(json[(int)start..]);
        reader.Read();
        return reader.GetString();
    }

    private struct Fields
    {
        public double? CreatedAt;
        public int UserId;       // 0 while there is no valid user
        public long EmailStart;  // -1 while primary_email is absent or not a string

        public void ClearUser()
        {
            UserId = 0;
            EmailStart = -1;
        }
    }
}
