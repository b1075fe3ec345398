using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using FieldViolation = Google.Rpc.BadRequest.Types.FieldViolation;

namespace Neptun.Chat.Service.Errors;

/// <summary>
/// A refusal from the error table. It carries its row and its field violations as they are to the
/// REST contract, which writes them without reading anything back; being an <see cref="RpcException"/>,
/// it reaches native gRPC callers as the row's status and message, the violations as
/// <c>google.rpc.BadRequest</c> in the status details.
/// </summary>
public sealed class ApiException : RpcException
{
    /// <summary>gRPC's retry pushback trailer (gRFC A6): how long a client's retry policy waits first.</summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    // gRPC's trailer for a serialized google.rpc.Status, which gRPC clients read the details from.
    private const string StatusDetailsTrailer = "grpc-status-details-bin";

    /// <param name="error">The row.</param>
    /// <param name="fieldViolations">The fields it names, if any.</param>
    /// <param name="retryAfter">When a retry may succeed: REST's <c>Retry-After</c>, gRPC's pushback.</param>
    public ApiException(ApiError error, IReadOnlyList<FieldViolation>? fieldViolations = null, TimeSpan? retryAfter = null)
        : base(new Grpc.Core.Status(GrpcStatusOf(error), error.Message), TrailersOf(error, fieldViolations ?? [], retryAfter))
    {
        Error = error;
        FieldViolations = fieldViolations ?? [];
        RetryAfter = retryAfter;
    }

    /// <summary>The row of <see cref="ApiErrors"/> the call is refused with.</summary>
    public ApiError Error { get; }

    /// <summary>The fields the refusal names; empty for most rows.</summary>
    public IReadOnlyList<FieldViolation> FieldViolations { get; }

    /// <summary>When a retry may succeed, for the rows that say so.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Whole seconds, at least one, as HTTP's <c>Retry-After</c> is written.</summary>
    public static string RetryAfterSeconds(TimeSpan wait) =>
        ((int)WholeSeconds(wait).TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A wait rounded up to whole seconds, at least one: what a caller is told to wait.</summary>
    public static TimeSpan WholeSeconds(TimeSpan wait) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait.TotalSeconds)));

    private static StatusCode GrpcStatusOf(ApiError error) =>
        error.GrpcStatus ?? throw new ArgumentException($"'{error.Message}' has no gRPC status: only the REST contract answers with it.", nameof(error));

    private static Metadata TrailersOf(ApiError error, IReadOnlyList<FieldViolation> fieldViolations, TimeSpan? retryAfter)
    {
        if (fieldViolations.Count == 0 && retryAfter is null)
        {
            return Metadata.Empty;
        }

        var trailers = new Metadata();
        if (retryAfter is { } wait)
        {
            trailers.Add(RetryPushbackTrailer, ((long)wait.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (fieldViolations.Count == 0)
        {
            return trailers;
        }

        var badRequest = new BadRequest { FieldViolations = { fieldViolations } };
        var status = new Google.Rpc.Status
        {
            Code = (int)GrpcStatusOf(error),
            Message = error.Message,
            Details = { Any.Pack(badRequest) },
        };
        trailers.Add(StatusDetailsTrailer, status.ToByteArray());
        return trailers;
    }
}
