namespace Neptun.Session;

/// <summary>The logged-in user as nuxt-auth-utils keeps it in <c>data.user</c>.</summary>
public readonly record struct SessionUser(int Id, string? PrimaryEmail);
