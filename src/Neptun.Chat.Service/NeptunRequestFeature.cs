using Neptun.Chat.Service.Errors;
using Neptun.Session;

namespace Neptun.Chat.Service;

/// <summary>
/// What the parts of one request tell each other, kept in the request's feature collection: the
/// rate limiter, the interceptors, the REST contract and the request log each run at a different
/// depth of the pipeline and cannot hand values to one another directly.
/// </summary>
public sealed class NeptunRequestFeature
{
    /// <summary>The session of a gRPC call, read once from its headers by the session middleware.</summary>
    public SessionReadResult? Session { get; set; }

    /// <summary>The refusal the call ended with (its row and fields), for the REST contract to write.</summary>
    public ApiException? Refusal { get; set; }

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
