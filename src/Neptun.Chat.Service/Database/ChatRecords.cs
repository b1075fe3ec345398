namespace Neptun.Chat.Service.Database;

/// <summary>
/// A chat to create. <paramref name="RequestId"/> and <paramref name="RequestHash"/> are both set
/// for an idempotent create, or both null.
/// </summary>
public sealed record NewProjectChat(int UserId, int ProjectId, string Model, string Name, Guid? RequestId, byte[]? RequestHash);

/// <summary>
/// The chat a create returned. <paramref name="Replayed"/>: an earlier request with the same id
/// created it; <paramref name="SameRequest"/>: that earlier request asked for the same thing.
/// </summary>
public sealed record ChatCreation(ChatRecord Chat, bool Replayed, bool SameRequest);

/// <summary>A row of <c>chat_conversation</c> as the create statement returns it; times are UTC.</summary>
public sealed record ChatRecord(int Id, int NeptunUserId, string Model, string Name, DateTime CreatedAt, DateTime UpdatedAt);
