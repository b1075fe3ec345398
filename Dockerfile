# Neptun chat service: REST (HTTP/1.1) on 8080, gRPC (h2c) on 8081, probes and metrics (HTTP/1.1)
# on 8082, all set in appsettings.json.
# Needs DATABASE_CONNECTION_STRING and NUXT_SESSION_PASSWORD at run time. Run the migrations once
# with the same image: `docker run ... <image> migrate`. Probes: GET /healthz/live and
# /healthz/ready on 8082; grpc.health.v1.Health on 8081.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first from the project files alone, so the package layer is reused until one changes.
# The service project is restored (not the sln, which also lists the test projects).
# Locked: exactly the packages the committed packages.lock.json files name, from the source
# nuget.config maps them to.
COPY Directory.Build.props Directory.Packages.props nuget.config ./
COPY src/Neptun.Chat.Contracts/Neptun.Chat.Contracts.csproj src/Neptun.Chat.Contracts/packages.lock.json src/Neptun.Chat.Contracts/
COPY src/Neptun.Session/Neptun.Session.csproj src/Neptun.Session/packages.lock.json src/Neptun.Session/
COPY src/Neptun.Chat.Service/Neptun.Chat.Service.csproj src/Neptun.Chat.Service/packages.lock.json src/Neptun.Chat.Service/
RUN dotnet restore --locked-mode src/Neptun.Chat.Service/Neptun.Chat.Service.csproj

# protos/ is compiled by the Contracts project.
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/Neptun.Chat.Service -c Release -o /app --no-restore -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./

ENV ASPNETCORE_ENVIRONMENT=Production
# A 2 MB gen0 budget, not one sized from the CPU's cache (80 MB on a 300 MB L3): RSS under load (docs/performance.md).
ENV DOTNET_GCgen0size=0x200000
# The base image sets ASPNETCORE_HTTP_PORTS=8080; the ports come from appsettings.json's Kestrel
# endpoints instead (override with Kestrel__Endpoints__Rest__Url / Kestrel__Endpoints__Grpc__Url).
ENV ASPNETCORE_HTTP_PORTS=
EXPOSE 8080 8081 8082

# The aspnet image's non-root user "app" (UID 1654).
USER $APP_UID
ENTRYPOINT ["dotnet", "Neptun.Chat.Service.dll"]
