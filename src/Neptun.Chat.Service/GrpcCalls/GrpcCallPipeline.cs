using System.Buffers;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http.Features;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.Telemetry;
using Neptun.Session;

namespace Neptun.Chat.Service.GrpcCalls;

/// <summary>
/// Readies every gRPC call, native or through its transcoded REST route, before gRPC or anything
/// else of the pipeline reads it, and records what the later steps need in its <see cref="GrpcCallFeature"/>:
/// <list type="bullet">
/// <item>drops request headers whose names HTTP allows but gRPC metadata does not (such as <c>X-*a</c>):
/// gRPC throws on such a name when a call reads its metadata, which would let any caller cause a 500;
/// the service reads no such header;</item>
/// <item>leaves a native call to gRPC's own message limit (set to Kestrel's body limit), which reads a
/// message's length prefix and answers RESOURCE_EXHAUSTED, as gRPC clients expect; a REST call keeps
/// Kestrel's limit, which the REST contract answers with the web app's 413;</item>
/// <item>reads the <c>neptun-session</c> once: the rate limiter counts by its user, the session
/// interceptor refuses a call without one, the REST contract decides from it what a refused path may reveal.</item>
/// </list>
/// </summary>
public sealed class GrpcCallMiddleware(RequestDelegate next, SessionReader sessionReader)
{
    private static readonly SearchValues<char> MetadataKeyChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<GrpcMethodMetadata>() is null)
        {
            return next(context);
        }

        var call = new GrpcCallFeature { IsRest = metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null };
        context.Features.Set(call);
        DropNonMetadataHeaders(context.Request.Headers);
        if (!call.IsRest && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        call.Session = ReadSession(context.Request.Headers);
        return next(context);
    }

    private static void DropNonMetadataHeaders(IHeaderDictionary headers)
    {
        List<string>? invalid = null;
        foreach (var header in headers)
        {
            if (header.Key.Length == 0 || header.Key.AsSpan().ContainsAnyExcept(MetadataKeyChars))
            {
                (invalid ??= []).Add(header.Key);
            }
        }

        invalid?.ForEach(name => headers.Remove(name));
    }

    // The request's headers carry the gRPC metadata of native calls and the headers of REST calls alike.
    private SessionReadResult ReadSession(IHeaderDictionary headers)
    {
        string? sessionHeader = headers[SessionReaderOptions.HeaderName];
        // HTTP/2 clients may split cookies over several headers; they read as one, joined by "; ".
        var cookies = headers.Cookie;
        var cookie = cookies.Count switch
        {
            0 => null,
            1 => cookies[0],
            _ => string.Join("; ", cookies.ToArray()),
        };
        return sessionReader.Read(sessionHeader, cookie);
    }
}

/// <summary>
/// What the parts of one gRPC call tell each other, kept in the request's feature collection: the
/// middleware, the rate limiter, the interceptors and the REST contract run at different depths of
/// the pipeline and cannot hand values to one another directly.
/// </summary>
public sealed class GrpcCallFeature
{
    /// <summary>Whether the call came through the transcoded REST route rather than native gRPC.</summary>
    public bool IsRest { get; init; }

    /// <summary>The call's session, read once from its headers by <see cref="GrpcCallMiddleware"/>.</summary>
    public SessionReadResult? Session { get; set; }

    /// <summary>The refusal the call ended with (its row and fields), for the REST contract to write.</summary>
    public ApiException? Refusal { get; set; }
}

/// <summary>Which kind of call a request is, and its caller, as <see cref="GrpcCallMiddleware"/> recorded them.</summary>
public static class GrpcCallExtensions
{
    /// <summary>
    /// Whether the request was routed to the transcoded REST route rather than to native gRPC: the
    /// REST contract, the body limit and the rate limiter answer the two differently.
    /// </summary>
    public static bool IsRestCall(this HttpContext context) => context.Features.Get<GrpcCallFeature>()?.IsRest == true;

    /// <summary>Whether the request is a gRPC call at all, native or through its REST route.</summary>
    public static bool IsGrpcCall(this HttpContext context) => context.Features.Get<GrpcCallFeature>() is not null;

    /// <summary>Keeps the refusal a call ended with, for the REST contract to write.</summary>
    public static void KeepRefusal(this HttpContext context, ApiException refusal)
    {
        if (context.Features.Get<GrpcCallFeature>() is { } call)
        {
            call.Refusal = refusal;
        }
    }

    /// <summary>The user of a valid session; null without one, or for a request that is no gRPC call.</summary>
    public static SessionUser? GetSessionUser(this HttpContext context) =>
        context.Features.Get<GrpcCallFeature>()?.Session?.User;

    /// <summary>The caller of a call the session interceptor let through.</summary>
    public static SessionUser GetSessionUser(this ServerCallContext context) =>
        context.GetHttpContext().GetSessionUser()
        ?? throw new InvalidOperationException("The session interceptor did not run for this call.");
}

/// <summary>
/// The outermost interceptor, on every service. Turns a failure nobody planned for into INTERNAL
/// (REST 500) with no detail: gRPC's own answer would be UNKNOWN, and an exception's text may
/// describe internals the caller must not see. It keeps the refusal in the call's feature, since
/// transcoding writes an error itself and the REST contract, which replaces that body, sees no exception.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (ApiException refusal)
        {
            context.GetHttpContext().KeepRefusal(refusal);
            throw;
        }
        catch (Exception exception) when (exception is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            Log.UnexpectedFailure(logger, context.Method, exception);
            var refusal = ChatErrors.Internal();
            context.GetHttpContext().KeepRefusal(refusal);
            throw refusal;
        }
    }
}

/// <summary>
/// The session gate: lets a call through only with a valid <c>neptun-session</c>, read (by
/// <see cref="GrpcCallMiddleware"/>) exactly as the web app reads it, so that one login serves
/// both. Runs for native gRPC and transcoded REST calls alike, on the services that need a caller.
/// </summary>
public sealed class SessionInterceptor(ILogger<SessionInterceptor> logger, AnonymousLogBudget anonymousBudget) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // No result at all means the session was never read: refused like a missing session.
        var session = context.GetHttpContext().Features.Get<GrpcCallFeature>()?.Session;
        if (session?.User is null)
        {
            // The reason is safe to log; the cookie never is.
            if (anonymousBudget.TryTake(logger))
            {
                Log.SessionRejected(logger, context.Method, session?.Rejection ?? SessionRejection.Missing);
            }

            throw new ApiException(ApiErrors.Unauthenticated);
        }

        return continuation(request, context);
    }
}
