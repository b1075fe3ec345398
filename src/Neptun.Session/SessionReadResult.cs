namespace Neptun.Session;

public readonly record struct SessionReadResult(SessionUser? User, SessionRejection Rejection)
{
    public bool IsAuthenticated => User is not null;

    internal static SessionReadResult Rejected(SessionRejection rejection) => new(null, rejection);
}
