using Grpc.Core;
using Microsoft.AspNetCore.TestHost;

namespace Neptun.Chat.Service.IntegrationTests.Stalls;

/// <summary>
/// gRPC resets a stream at the call's deadline (HTTP/2 CANCEL) when the service has not answered.
/// TestServer's client reports that as INTERNAL, caused by <see cref="HttpResetTestException"/>,
/// where an HTTP/2 client reads CANCELLED: no answer, so the create may have completed.
/// </summary>
internal static class TestServerResets
{
    /// <summary>The status an HTTP/2 client would have read: CANCELLED for a reset stream, else the exception's own.</summary>
    public static StatusCode StatusAsOverHttp2(RpcException exception) =>
        exception.StatusCode == StatusCode.Internal && exception.Status.DebugException is HttpResetTestException
            ? StatusCode.Cancelled
            : exception.StatusCode;
}
