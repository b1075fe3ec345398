using System.Net;
using Dapper;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Neptun.Chat.V1;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>
/// deploy/postgres/roles.sql as an operator runs it: one role migrates (DDL) with the `migrate`
/// command as the Job runs it (no session password), then psql applies the script for another role,
/// and the whole service serves as that role alone, which can change no table or schema.
/// </summary>
public sealed class ServiceRoleTests
{
    [Fact]
    public async Task The_service_creates_chats_as_the_role_roles_sql_grants_and_that_role_can_change_no_schema()
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var migratingRole = $"neptun_migrate_{suffix}";
        var serviceRole = $"neptun_chat_{suffix}";
        var password = Guid.NewGuid().ToString("N");
        await AsAdminAsync(PostgresServer.AdminConnectionString, $"""
            CREATE ROLE {migratingRole} LOGIN PASSWORD '{password}';
            CREATE ROLE {serviceRole} LOGIN PASSWORD '{password}';
            """);
        var database = await TestDatabase.CreateAsync();
        try
        {
            // The migrating role: its own schema in the database and, on a database without the
            // web app's tables (this one), those in public too.
            await database.ExecuteAsync($"""
                GRANT CREATE ON DATABASE "{database.Name}" TO {migratingRole};
                GRANT CREATE ON SCHEMA public TO {migratingRole};
                """);
            await Hosts.ServiceProcess.MigrateAsTheJobDoesAsync(As(database, migratingRole, password));
            await NeptunRows.InsertUserAsync(database, NeptunApiFixture.AdaId);
            var projectId = await NeptunRows.InsertProjectAsync(database, NeptunApiFixture.AdaId);

            await ExternalCommand.RunAsync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", $"service_role={serviceRole}",
                "-d", database.Name, "-f", RepositoryFiles.Find("deploy/postgres/roles.sql")], TimeSpan.FromSeconds(60));

            await using (var factory = new Hosts.ChatServiceFactory(As(database, serviceRole, password), new Dictionary<string, string?> { ["Database:MigrateOnStartup"] = "false" }))
            {
                // Ready (it reads the migration journal), then creates over REST, the same request
                // id twice (the idempotency record read back), and over gRPC.
                using var operations = factory.CreateOperationsClient();
                Assert.Equal(HttpStatusCode.OK, (await operations.GetAsync(new Uri("/healthz/ready", UriKind.Relative))).StatusCode);
                using var rest = factory.CreateClient();
                var key = Guid.NewGuid().ToString();
                var bodies = new List<string>();
                for (var attempt = 0; attempt < 2; attempt++)
                {
                    using var request = ChatRequests.Create(NeptunApiFixture.AdaId, projectId, SessionVectors.CookieHeader("valid"));
                    request.Headers.Add("Idempotency-Key", key);
                    using var response = await rest.SendAsync(request);
                    bodies.Add(await response.Content.ReadAsStringAsync());
                    Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {bodies[^1]}{Environment.NewLine}{string.Join(Environment.NewLine, factory.Logs.Lines)}");
                }

                Assert.Equal(bodies[0], bodies[1]);
                var reply = await factory.CreateChatClient().CreateProjectChatAsync(
                    new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = "As the service role", RequestId = Guid.NewGuid().ToString() },
                    new Metadata { { "cookie", SessionVectors.CookieHeader("valid") } },
                    DateTime.UtcNow.AddSeconds(60));
                Assert.True(reply.Chat.Id > 0);
                Assert.Equal(2, await NeptunRows.CountChatsAsync(database));
                Assert.DoesNotContain(factory.Logs.Lines, line => line.StartsWith("Error", StringComparison.Ordinal) || line.StartsWith("Critical", StringComparison.Ordinal));
            }

            // Every change of a table or a schema, and what the service never does to the web app's
            // rows, is refused to the service role: insufficient_privilege (42501).
            await using var connection = new NpgsqlConnection(As(database, serviceRole, password));
            await connection.OpenAsync();
            foreach (var statement in new[]
            {
                "DROP TABLE public.chat_conversation",
                "ALTER TABLE public.chat_conversation ADD COLUMN probe integer",
                "ALTER TYPE public.ai_model_enum ADD VALUE 'probe/model'",
                "CREATE TABLE public.probe (id integer)",
                "DROP TABLE neptun_chat_service.idempotency_key",
                "CREATE TABLE neptun_chat_service.probe (id integer)",
                "TRUNCATE neptun_chat_service.schema_versions",
                "DELETE FROM public.chat_conversation",
                "UPDATE public.neptun_user_project SET name = name",
                "UPDATE public.neptun_user SET id = id",
                "UPDATE public.neptun_user_project SET neptun_user_id = neptun_user_id",
            })
            {
                var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(statement));
                Assert.True(refused.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{statement}: {refused.SqlState} {refused.MessageText}");
            }
        }
        finally
        {
            // A role can be dropped once the database that holds its rights is gone.
            await database.DisposeAsync();
            await AsAdminAsync(PostgresServer.AdminConnectionString, $"DROP ROLE IF EXISTS {serviceRole}; DROP ROLE IF EXISTS {migratingRole};");
        }
    }

    private static string As(TestDatabase database, string role, string password) =>
        new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role, Password = password }.ConnectionString;

    private static async Task AsAdminAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(sql);
    }
}
