using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>The shipped SQL creates what is absent, leaves what exists, and keeps its journal out of public.</summary>
public sealed class MigrationTests
{
    // The Neptun tables, and the service's own table of request ids.
    private const long MigrationScripts = 2;

    [Fact]
    public async Task Creates_the_four_tables_and_three_enums_and_journals_in_its_own_schema()
    {
        await using var database = await TestDatabase.CreateAsync();

        Migrate(database);

        Assert.Equal(
            ["chat_conversation", "neptun_user", "neptun_user_project", "project_chat_conversation"],
            await ListAsync(database, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"));
        Assert.Equal(
            ["ai_model_enum", "programming_language", "project_type"],
            await ListAsync(database, "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e' ORDER BY 1"));
        Assert.Equal(12, await database.ScalarAsync<long>("SELECT count(*) FROM unnest(enum_range(NULL::ai_model_enum))"));
        Assert.Equal("chat_user_pkey", await database.ScalarAsync<string>("SELECT conname FROM pg_constraint WHERE conrelid = 'neptun_user'::regclass AND contype = 'p'"));
        Assert.Equal(MigrationScripts, await database.ScalarAsync<long>($"SELECT count(*) FROM {DatabaseMigrator.ServiceSchema}.schema_versions"));
    }

    [Fact]
    public async Task Running_twice_changes_nothing()
    {
        await using var database = await TestDatabase.CreateAsync();
        Migrate(database);
        await NeptunRows.InsertUserAsync(database, 7);

        Migrate(database);

        Assert.Equal(MigrationScripts, await database.ScalarAsync<long>($"SELECT count(*) FROM {DatabaseMigrator.ServiceSchema}.schema_versions"));
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM neptun_user"));
    }

    [Fact]
    public async Task Leaves_an_existing_production_schema_as_it_is()
    {
        await using var database = await TestDatabase.CreateAsync();
        // Production as drizzle made it, with a model the shipped SQL does not list and a table the service does not know.
        await database.ExecuteAsync("""
            CREATE TYPE ai_model_enum AS ENUM ('google/gemma-2-27b-it', 'vendor/only-in-production');
            CREATE TYPE project_type AS ENUM ('web-site', 'web-service', 'web-app');
            CREATE TYPE programming_language AS ENUM ('typescript', 'go');
            CREATE SEQUENCE chat_user_id_seq;
            CREATE TABLE neptun_user (id integer PRIMARY KEY DEFAULT nextval('chat_user_id_seq'), primary_email text NOT NULL UNIQUE, hashed_password text,
                                      created_at timestamp DEFAULT now(), updated_at timestamp DEFAULT now(), github_id text);
            CREATE TABLE neptun_user_project (id serial PRIMARY KEY, name text NOT NULL, description text, type project_type NOT NULL,
                                              main_language programming_language NOT NULL, created_at timestamp DEFAULT now(), updated_at timestamp DEFAULT now(),
                                              neptun_user_id integer NOT NULL REFERENCES neptun_user(id) ON DELETE CASCADE, prompt_context jsonb);
            CREATE TABLE chat_conversation (id serial PRIMARY KEY, name text NOT NULL, model ai_model_enum NOT NULL, created_at timestamp DEFAULT now(),
                                            updated_at timestamp DEFAULT now(), neptun_user_id integer NOT NULL REFERENCES neptun_user(id) ON DELETE CASCADE);
            CREATE TABLE project_chat_conversation (project_id integer NOT NULL REFERENCES neptun_user_project(id) ON DELETE CASCADE,
                                                    chat_conversation_id integer NOT NULL REFERENCES chat_conversation(id) ON DELETE CASCADE, created_at timestamp DEFAULT now());
            CREATE TABLE chat_conversation_message (id serial PRIMARY KEY, chat_conversation_id integer REFERENCES chat_conversation(id));
            INSERT INTO neptun_user (primary_email) VALUES ('existing@example.com');
            """);
        var columnsBefore = await ListAsync(database, "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1");

        Migrate(database);

        Assert.Equal(["google/gemma-2-27b-it", "vendor/only-in-production"], await ListAsync(database, "SELECT unnest(enum_range(NULL::ai_model_enum))::text"));
        Assert.Equal(["typescript", "go"], await ListAsync(database, "SELECT unnest(enum_range(NULL::programming_language))::text"));
        Assert.Equal(columnsBefore, await ListAsync(database, "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1"));
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM neptun_user"));
    }

    private static void Migrate(TestDatabase database)
    {
        var options = Options.Create(new DatabaseOptions { ConnectionString = database.ConnectionString });
        new DatabaseMigrator(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<DatabaseMigrator>.Instance).Migrate();
    }

    private static async Task<List<string>> ListAsync(TestDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync();
        return (await Dapper.SqlMapper.QueryAsync<string>(connection, sql)).ToList();
    }
}
