using Google.Rpc;
using Neptun.Chat.Service.Chats;
using Neptun.Session;

namespace Neptun.Chat.Service;

/// <summary>
/// What the parts of one request tell each other, kept in the request's feature collection: the
/// rate limiter, the interceptors, the REST contract and the request log each run at a different
/// depth of the pipeline and cannot hand values to one another directly.
/// </summary>
public sealed class NeptunRequestFeature
{
    /// <summary>The session as read from the request's headers; a seal is unsealed once per request.</summary>
    public SessionReadResult? Session { get; set; }

    /// <summary>The user the session interceptor let through; null for a call refused before it (413, 429, 401).</summary>
    public SessionUser? User { get; set; }

    /// <summary>The row of the error table a REST call was refused with, for the REST contract to write.</summary>
    public ApiError? Error { get; set; }

    /// <summary>The fields the refusal names, if any.</summary>
    public IReadOnlyList<BadRequest.Types.FieldViolation> FieldViolations { get; set; } = [];

    /// <summary>The request's feature, added on first use.</summary>
    public static NeptunRequestFeature Of(HttpContext context)
    {
        var feature = context.Features.Get<NeptunRequestFeature>();
        if (feature is null)
        {
            feature = new NeptunRequestFeature();
            context.Features.Set(feature);
        }

        return feature;
    }
}
