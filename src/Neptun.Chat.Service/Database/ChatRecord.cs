namespace Neptun.Chat.Service.Database;

/// <summary>A row of <c>chat_conversation</c> as the create statement returns it; times are UTC.</summary>
public sealed record ChatRecord(int Id, int NeptunUserId, string Model, string Name, DateTime CreatedAt, DateTime UpdatedAt);
