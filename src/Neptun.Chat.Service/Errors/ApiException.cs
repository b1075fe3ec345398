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
    // gRPC's trailer for a serialized google.rpc.Status, which gRPC clients read the details from.
    private const string StatusDetailsTrailer = "grpc-status-details-bin";

    public ApiException(ApiError error, IReadOnlyList<FieldViolation>? fieldViolations = null)
        : base(new Grpc.Core.Status(GrpcStatusOf(error), error.Message), DetailsTrailers(error, fieldViolations ?? []))
    {
        Error = error;
        FieldViolations = fieldViolations ?? [];
    }

    /// <summary>The row of <see cref="ApiErrors"/> the call is refused with.</summary>
    public ApiError Error { get; }

    /// <summary>The fields the refusal names; empty for most rows.</summary>
    public IReadOnlyList<FieldViolation> FieldViolations { get; }

    private static StatusCode GrpcStatusOf(ApiError error) =>
        error.GrpcStatus ?? throw new ArgumentException($"'{error.Message}' has no gRPC status: only the REST contract answers with it.", nameof(error));

    private static Metadata DetailsTrailers(ApiError error, IReadOnlyList<FieldViolation> fieldViolations)
    {
        if (fieldViolations.Count == 0)
        {
            return Metadata.Empty;
        }

        var badRequest = new BadRequest { FieldViolations = { fieldViolations } };
        var status = new Google.Rpc.Status
        {
            Code = (int)GrpcStatusOf(error),
            Message = error.Message,
            Details = { Any.Pack(badRequest) },
        };
        return new Metadata { { StatusDetailsTrailer, status.ToByteArray() } };
    }
}
