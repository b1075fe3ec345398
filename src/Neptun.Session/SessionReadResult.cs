namespace Neptun.Session;

public readonly record struct SessionReadResult(SessionUser? User, SessionRejection Rejection)
{
    internal static SessionReadResult Rejected(SessionRejection rejection) => new(null, rejection);
}
