namespace Neptun.Chat.Service.Database;

/// <summary>What the create statement did for one create.</summary>
public enum CreateOutcome
{
    /// <summary>The project is not the user's (or no longer exists): nothing was written for it.</summary>
    NotFound,

    /// <summary>The chat, its link and its request id record are stored (committed).</summary>
    Created,

    /// <summary>An earlier request with the same id created the chat; nothing was written.</summary>
    Replayed,

    /// <summary>
    /// Another transaction recorded the same request id while this statement ran: nothing was
    /// written, and a new statement will read what that one created.
    /// </summary>
    RunAgain,

    /// <summary>The model is not (or no longer) a value of the enum: nothing was written for it.</summary>
    UnknownModel,

    /// <summary>The statement would have created it, but its transaction did not commit: nothing is stored.</summary>
    RolledBack,

    /// <summary>The connection was lost while the commit was under way, and asking the database did not tell.</summary>
    Unknown,
}

/// <summary>One create's outcome; <see cref="Creation"/> is set for created and replayed chats.</summary>
public readonly record struct ChatCreateResult(CreateOutcome Outcome, ChatCreation? Creation);

/// <summary>
/// Decides once, between a statement's COMMIT being sent and its writer giving up on it (a server
/// that does not answer): a writer that gave up may tell its callers that nothing was written.
/// </summary>
public sealed class CommitGate
{
    private const int Open = 0;
    private const int Committing = 1;
    private const int GivenUp = 2;
    private int _state;

    /// <summary>True when the COMMIT may be sent: nobody gave up on the statement.</summary>
    public bool TryCommit() => Interlocked.CompareExchange(ref _state, Committing, Open) == Open;

    /// <summary>True when no COMMIT was sent, nor ever will be.</summary>
    public bool TryGiveUp() => Interlocked.CompareExchange(ref _state, GivenUp, Open) == Open || HasGivenUp;

    /// <summary>True once the writer gave up: nothing of the statement is or will be stored.</summary>
    public bool HasGivenUp => Volatile.Read(ref _state) == GivenUp;
}

/// <summary>
/// What identifies a statement's writing after its connection is gone: its transaction, the start
/// of the server process that ran it (another start is another server, or the same one restarted),
/// and its chats' creation time, which a chat id handed out again after a crash would not share.
/// </summary>
internal sealed record WrittenBy(ulong TransactionId, DateTime ServerStarted, DateTime CreatedAt);

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
