using BenchmarkDotNet.Attributes;
using Google.Rpc;
using Microsoft.AspNetCore.Http;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.Rest;
using Neptun.Chat.V1;

namespace Neptun.Chat.Benchmarks;

/// <summary>The pure per-request work around the database call: validating a request, writing a REST error body.</summary>
[MemoryDiagnoser]
public class RequestBenchmarks
{
    private static readonly BadRequest.Types.FieldViolation[] NameViolation = [new() { Field = "name", Description = "must be 3 to 256 characters long" }];
    private readonly CreateProjectChatRequest _request = new() { UserId = 123, ProjectId = 7, Model = LoadSetup.Model, Name = LoadSetup.ChatName };
    private readonly DefaultHttpContext _context = new();

    [GlobalSetup]
    public void Setup() => _context.Response.Body = Stream.Null;

    [Benchmark]
    public int ValidateRequest() =>
        CreateProjectChatValidator.ValidatePath(_request).Count + CreateProjectChatValidator.ValidateBody(_request).Count;

    [Benchmark]
    public Task WriteErrorBody() =>
        RestErrorBody.WriteAsync(_context.Response, ApiErrors.InvalidBody, NameViolation);
}
