using System.Net.Http.Headers;
using System.Text;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>The documented REST request, as the web app's front end sends it.</summary>
public static class ChatRequests
{
    public const string ValidBody = """{"model":"google/gemma-2-27b-it","name":"Project Discussion"}""";

    public static HttpRequestMessage Create(object userId, object projectId, string? cookie, string body = ValidBody, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/users/{userId}/projects/{projectId}/chats")
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        return request;
    }
}
