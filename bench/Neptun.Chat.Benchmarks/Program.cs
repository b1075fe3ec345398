using BenchmarkDotNet.Running;
using Neptun.Chat.Benchmarks;

// bench/run.sh uses the two setup commands; anything else goes to BenchmarkDotNet.
return args switch
{
    ["seal-cookies", var count, var path] => LoadSetup.SealCookies(int.Parse(count, System.Globalization.CultureInfo.InvariantCulture), path),
    ["grpc-body", var userId, var projectId, var path] => LoadSetup.WriteGrpcBody(
        int.Parse(userId, System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(projectId, System.Globalization.CultureInfo.InvariantCulture),
        path),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(LoadSetup).Assembly).Run(args);
    return 0;
}
