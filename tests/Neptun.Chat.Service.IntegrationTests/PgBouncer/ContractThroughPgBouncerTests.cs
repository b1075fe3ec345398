using Neptun.Chat.Service.IntegrationTests.Api;

namespace Neptun.Chat.Service.IntegrationTests.PgBouncer;

// The API contract (creates and the whole error table, over REST and native gRPC) once more, with
// every database call of the service going through pgbouncer in transaction mode.

public sealed class RestCreateThroughPgBouncerTests(PgBouncerApiFixture api) : RestCreateContract(api), IClassFixture<PgBouncerApiFixture>;

public sealed class GrpcCreateThroughPgBouncerTests(PgBouncerApiFixture api) : GrpcCreateContract(api), IClassFixture<PgBouncerApiFixture>;

public sealed class RestErrorThroughPgBouncerTests(PgBouncerApiFixture api) : RestErrorContract(api), IClassFixture<PgBouncerApiFixture>;

public sealed class GrpcErrorThroughPgBouncerTests(PgBouncerApiFixture api) : GrpcErrorContract(api), IClassFixture<PgBouncerApiFixture>;
