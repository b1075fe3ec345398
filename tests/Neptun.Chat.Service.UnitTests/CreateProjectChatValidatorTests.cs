using Neptun.Chat.Service.Chats;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.UnitTests;

public sealed class CreateProjectChatValidatorTests
{
    [Theory]
    [InlineData(1, 1, new string[0])]
    [InlineData(0, 1, new[] { "user_id" })]
    [InlineData(1, -1, new[] { "project_id" })]
    [InlineData(int.MinValue, 0, new[] { "user_id", "project_id" })]
    public void Path_ids_must_be_positive(int userId, int projectId, string[] badFields)
    {
        var violations = CreateProjectChatValidator.ValidatePath(new CreateProjectChatRequest { UserId = userId, ProjectId = projectId });

        Assert.Equal(badFields, violations.Select(v => v.Field));
    }

    [Theory]
    [InlineData("m", "abc", new string[0])]
    [InlineData("", "abc", new[] { "model" })]
    [InlineData("m", "ab", new[] { "name" })]
    [InlineData("", "", new[] { "model", "name" })]
    public void Body_needs_a_model_and_a_name_of_3_to_256_units(string model, string name, string[] badFields)
    {
        var violations = CreateProjectChatValidator.ValidateBody(new CreateProjectChatRequest { Model = model, Name = name });

        Assert.Equal(badFields, violations.Select(v => v.Field));
    }

    [Theory]
    [InlineData(256, true)]
    [InlineData(257, false)]
    public void Name_length_counts_utf16_units(int units, bool valid)
    {
        // One emoji is two UTF-16 units, as JavaScript's String.length counts it.
        var name = string.Concat(Enumerable.Repeat("\U0001F600", units / 2)) + (units % 2 == 1 ? "x" : "");

        var violations = CreateProjectChatValidator.ValidateBody(new CreateProjectChatRequest { Model = "m", Name = name });

        Assert.Equal(valid, violations.Count == 0);
    }

    [Fact]
    public void Names_the_database_cannot_store_verbatim_are_refused()
    {
        // Built in code: xunit's test names cannot carry lone surrogates.
        string[] refused = ["a\u0000c", "ab" + '\uD800', "a" + '\uDE00' + "b", "abc" + '\uDE00' + '\uD83D'];
        foreach (var name in refused)
        {
            Assert.Equal(["name"], CreateProjectChatValidator.ValidateBody(new CreateProjectChatRequest { Model = "m", Name = name }).Select(v => v.Field));
        }

        Assert.Empty(CreateProjectChatValidator.ValidateBody(new CreateProjectChatRequest { Model = "m", Name = "a\uD83D\uDE00\u202E\u0301" }));
    }
}
