using Neptun.Chat.Service.Database;
using Npgsql;

namespace Neptun.Chat.Service.UnitTests;

public sealed class PostgresConnectionStringTests
{
    [Fact]
    public void Reads_the_uri_form_the_web_app_uses()
    {
        var settings = PostgresConnectionString.Parse("postgresql://neptun:p%40ss%3Aword@db.internal:6543/neptun_prod?sslmode=require&application_name=chat").Settings;

        Assert.Equal("db.internal", settings.Host);
        Assert.Equal(6543, settings.Port);
        Assert.Equal("neptun", settings.Username);
        Assert.Equal("p@ss:word", settings.Password);
        Assert.Equal("neptun_prod", settings.Database);
        Assert.Equal(SslMode.Require, settings.SslMode);
        Assert.Equal("chat", settings.ApplicationName);
    }

    [Fact]
    public void Reads_a_postgres_scheme_without_port_or_password()
    {
        var settings = PostgresConnectionString.Parse("postgres://app@localhost/neptun").Settings;

        Assert.Equal("localhost", settings.Host);
        Assert.Equal(5432, settings.Port);
        Assert.Equal("app", settings.Username);
        Assert.Null(settings.Password);
        Assert.Equal("neptun", settings.Database);
    }

    [Theory]
    [InlineData("postgresql://neptun:pw@db1.internal:5432,db2.internal:5433/neptun?target_session_attrs=read-write", "db1.internal:5432,db2.internal:5433")]
    [InlineData("postgresql://neptun:pw@db1.internal,db2.internal:5433/neptun?target_session_attrs=read-write", "db1.internal,db2.internal:5433")]
    [InlineData("postgresql://neptun:pw@[::1]:5432,[fd00::2]/neptun?target_session_attrs=read-write", "[::1]:5432,[fd00::2]")]
    public void Reads_the_uri_form_with_several_hosts(string uri, string hosts)
    {
        var settings = PostgresConnectionString.Parse(uri).Settings;

        Assert.Equal(hosts, settings.Host);
        Assert.Equal("neptun", settings.Username);
        Assert.Equal("pw", settings.Password);
        Assert.Equal("neptun", settings.Database);
        Assert.Equal("read-write", settings.TargetSessionAttributes);

        // What Npgsql connects with: a multi-host data source trying each in turn.
        using var dataSource = NpgsqlDataSource.Create(settings.ConnectionString);
        Assert.IsType<NpgsqlMultiHostDataSource>(dataSource);
    }

    [Fact]
    public void Reads_the_keyword_form()
    {
        var settings = PostgresConnectionString.Parse("Host=127.0.0.1;Port=5433;Username=u;Password=p;Database=d").Settings;

        Assert.Equal("127.0.0.1", settings.Host);
        Assert.Equal(5433, settings.Port);
        Assert.Equal("d", settings.Database);
    }

    [Theory]
    [InlineData("postgresql://u:topsecret@h/d?sslmode=sometimes")]
    [InlineData("postgresql://u:topsecret@h/d?frobnicate=1")]
    [InlineData("postgresql://u:topsecret@h1:5432,h2:port/d")]
    [InlineData("Host=h;Password=topsecret;Bogus Keyword=1")]
    public void Refuses_what_it_cannot_honour_without_quoting_the_password(string connectionString)
    {
        var error = Assert.ThrowsAny<FormatException>(() => PostgresConnectionString.Parse(connectionString));

        Assert.DoesNotContain("topsecret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgresql://u:p@h/d", 0, 0)]
    [InlineData("postgresql://u:p@h/d", 16, 16)]
    [InlineData("Host=h;Max Auto Prepare=0", 16, 0)]
    [InlineData("Host=h;Max Auto Prepare=8", 0, 8)]
    [InlineData("Host=h;maxautoprepare=0", 16, 0)]
    public void Preparing_is_a_setting_that_the_connection_string_overrides(string connectionString, int setting, int expected)
    {
        var built = NeptunDataSourceFactory.BuildConnectionString(new DatabaseOptions { ConnectionString = connectionString, MaxAutoPrepare = setting });

        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(built).MaxAutoPrepare);
    }

    [Theory]
    [InlineData("postgresql://u:p@h1:5432,h2:5432/d?target_session_attrs=read-write", 1)]
    [InlineData("Host=h1:5432,h2:5432;Target Session Attributes=primary", 1)]
    [InlineData("Host=h1:5432,h2:5432;Target Session Attributes=primary;Host Recheck Seconds=10", 10)]
    public void A_promoted_standby_is_looked_for_every_second_unless_the_connection_string_says_otherwise(string connectionString, int expected)
    {
        var built = new NpgsqlConnectionStringBuilder(NeptunDataSourceFactory.BuildConnectionString(new DatabaseOptions { ConnectionString = connectionString }));

        Assert.Equal(expected, built.HostRecheckSeconds);
    }

    [Theory]
    [InlineData("postgresql://u:p@h/d", 5, true)]
    [InlineData("postgresql://u:p@h/d?connect_timeout=30", 30, true)]
    [InlineData("Host=h;Timeout=15;No Reset On Close=false", 15, false)]
    public void Defaults_fill_only_what_the_connection_string_does_not_give(string connectionString, int timeout, bool noResetOnClose)
    {
        var built = new NpgsqlConnectionStringBuilder(NeptunDataSourceFactory.BuildConnectionString(new DatabaseOptions { ConnectionString = connectionString }));

        Assert.Equal(timeout, built.Timeout);
        Assert.Equal(noResetOnClose, built.NoResetOnClose);
    }

    [Fact]
    public void The_service_always_runs_its_sessions_in_utc()
    {
        var connectionString = NeptunDataSourceFactory.BuildConnectionString(new DatabaseOptions { ConnectionString = "postgresql://u:p@h/d" });

        Assert.Equal("UTC", new NpgsqlConnectionStringBuilder(connectionString).Timezone);
    }
}
