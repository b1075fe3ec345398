namespace Neptun.Session;

/// <summary>Why a request carries no usable session; kept apart so logs and metrics can tell an attack from an old cookie.</summary>
public enum SessionRejection
{
    None,
    Missing,
    Malformed,
    UnknownPasswordId,
    BadMac,
    Expired,
    Undecryptable,
    NoUser,
    TooOld,
}
