using Google.Rpc;
using Grpc.Core;
using Neptun.Chat.Service.Errors;

namespace Neptun.Chat.Service.UnitTests.Errors;

public sealed class ApiExceptionTests
{
    private static readonly BadRequest.Types.FieldViolation NameViolation = new() { Field = "name", Description = "must be 3 to 256 characters long" };

    [Fact]
    public void Carries_its_row_and_field_violations_as_given()
    {
        var refusal = new ApiException(ApiErrors.InvalidBody, [NameViolation]);

        Assert.Same(ApiErrors.InvalidBody, refusal.Error);
        Assert.Equal([NameViolation], refusal.FieldViolations);
    }

    [Fact]
    public void Is_the_rows_grpc_status_with_the_violations_as_bad_request_details()
    {
        var refusal = new ApiException(ApiErrors.InvalidBody, [NameViolation]);

        Assert.Equal(StatusCode.InvalidArgument, refusal.StatusCode);
        Assert.Equal("Invalid body(model, name)", refusal.Status.Detail);
        var status = refusal.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Equal("Invalid body(model, name)", status.Message);
        Assert.Equal([NameViolation], status.GetDetail<BadRequest>()!.FieldViolations);
    }

    [Fact]
    public void A_row_without_fields_has_no_details()
    {
        var refusal = new ApiException(ApiErrors.ProjectNotFound);

        Assert.Equal(StatusCode.NotFound, refusal.StatusCode);
        Assert.Empty(refusal.FieldViolations);
        Assert.Null(refusal.GetRpcStatus());
    }

    [Fact]
    public void A_rest_only_row_cannot_be_thrown_to_grpc()
    {
        Assert.Throws<ArgumentException>(() => new ApiException(ApiErrors.UnsupportedMediaType));
    }
}
