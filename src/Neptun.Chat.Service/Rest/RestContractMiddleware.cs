using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Chat.Service.Telemetry;

namespace Neptun.Chat.Service.Rest;

/// <summary>
/// Makes the transcoded REST route behave as the web app's documented endpoint: 413 for a body
/// Kestrel refuses as over its limit, 415 for a body that is not JSON, 201 on success, and the web
/// app's error body for the row of <see cref="ApiErrors"/> the call failed with, instead of
/// transcoding's <c>google.rpc.Status</c> JSON. Native gRPC calls pass through untouched.
/// </summary>
public sealed class RestContractMiddleware(RequestDelegate next, ILogger<RestContractMiddleware> logger)
{
    private const string UserIdRouteValue = "user_id";
    private const string ProjectIdRouteValue = "project_id";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.IsRestCall())
        {
            await next(context);
            return;
        }

        if (!await BodyWithinLimitAsync(context))
        {
            await RestErrorBody.WriteAsync(context.Response, ApiErrors.PayloadTooLarge);
            return;
        }

        if (!IsJson(context.Request.ContentType))
        {
            await RestErrorBody.WriteAsync(context.Response, ApiErrors.UnsupportedMediaType);
            return;
        }

        // Transcoding writes its status and body itself; they are held back here so that both can
        // still be changed once the call is over. Bodies are a few hundred bytes.
        var responseBodyFeature = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        using var buffer = new MemoryStream();
        var bufferFeature = new StreamResponseBodyFeature(buffer);
        context.Features.Set<IHttpResponseBodyFeature>(bufferFeature);
        try
        {
            await next(context);
            await bufferFeature.CompleteAsync();
        }
        catch (Exception exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Whatever failed, the caller gets the documented 500 body and no detail.
            context.Features.Set(responseBodyFeature);
            Log.UnexpectedFailure(logger, RequestLogMiddleware.RouteOf(context), exception);
            context.Response.Clear();
            await RestErrorBody.WriteAsync(context.Response, ApiErrors.Internal);
            return;
        }
        finally
        {
            context.Features.Set(responseBodyFeature);
        }

        var status = context.Response.StatusCode;
        if (status >= 400)
        {
            await WriteErrorAsync(context, status);
            return;
        }

        if (status == StatusCodes.Status200OK)
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
        }

        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    private Task WriteErrorAsync(HttpContext context, int status)
    {
        // The service, its interceptors or the rate limiter refused the call, with a row and its fields.
        if (context.Features.Get<GrpcCallFeature>()?.Refusal is { } thrown)
        {
            if (thrown.RetryAfter is { } wait)
            {
                context.Response.Headers.RetryAfter = ApiException.RetryAfterSeconds(wait);
            }

            return RestErrorBody.WriteAsync(context.Response, thrown.Error, thrown.FieldViolations);
        }

        // Otherwise transcoding refused the request before the session interceptor ran. A body it
        // cannot read may be refused first; a bad path may not, or a caller without a session would learn about it.
        if (status != StatusCodes.Status400BadRequest)
        {
            return RestErrorBody.WriteAsync(context.Response, status);
        }

        var refusal = PathIsReadable(context) ? ApiErrors.InvalidBody
            : context.GetSessionUser() is not null ? ApiErrors.InvalidPath
            : ApiErrors.Unauthenticated;
        return RestErrorBody.WriteAsync(context.Response, refusal);
    }

    /// <summary>
    /// False when Kestrel refuses the body as over its limit: by its Content-Length, unread, or
    /// else once the limit is passed. A body without a length is read here, before transcoding,
    /// because transcoding would report an over-long chunked body as bad JSON; one whose length is
    /// within the limit is left to transcoding as it is.
    /// </summary>
    private static async Task<bool> BodyWithinLimitAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength is { } length)
        {
            return context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is not { } limit || length <= limit;
        }

        var buffer = new MemoryStream();
        context.Response.RegisterForDispose(buffer);
        try
        {
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return false;
        }

        buffer.Position = 0;
        request.Body = buffer;
        return true;
    }

    private static bool PathIsReadable(HttpContext context) =>
        IsInt32(context.Request.RouteValues[UserIdRouteValue]) && IsInt32(context.Request.RouteValues[ProjectIdRouteValue]);

    private static bool IsInt32(object? value) =>
        value is string text && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
        && mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
}
