namespace Neptun.Chat.Service.GrpcCalls;

/// <summary>
/// Drops request headers whose names HTTP allows but gRPC metadata does not (such as <c>X-*a</c> or
/// <c>X-a~b</c>). gRPC turns headers into metadata when a call reads them and throws on such a name,
/// which would make any caller able to cause a 500. The service reads no such header.
/// </summary>
public sealed class MetadataHeaderFilterMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.IsGrpcCall())
        {
            List<string>? invalid = null;
            foreach (var header in context.Request.Headers)
            {
                if (!IsMetadataKey(header.Key))
                {
                    (invalid ??= []).Add(header.Key);
                }
            }

            invalid?.ForEach(name => context.Request.Headers.Remove(name));
        }

        return next(context);
    }

    private static bool IsMetadataKey(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
