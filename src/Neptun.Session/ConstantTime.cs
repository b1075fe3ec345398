using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Neptun.Session;

/// <summary>
/// Equality whose time depends on the lengths only, never on where two values differ, eight bytes
/// at a time. CryptographicOperations.FixedTimeEquals is as safe but runs unoptimised, a byte at a
/// time: comparing a cached seal of a few hundred characters with it cost more than the rest of
/// reading the session (bench/run.sh --profile).
/// </summary>
internal static class ConstantTime
{
    // Not inlined, so that no caller's code can be folded into the loop and end it early.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool Equals(ReadOnlySpan<char> left, ReadOnlySpan<char> right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> a = MemoryMarshal.AsBytes(left);
        ReadOnlySpan<byte> b = MemoryMarshal.AsBytes(right);
        ulong differences = 0;
        int i = 0;
        for (; i <= a.Length - sizeof(ulong); i += sizeof(ulong))
        {
            differences |= MemoryMarshal.Read<ulong>(a[i..]) ^ MemoryMarshal.Read<ulong>(b[i..]);
        }

        for (; i < a.Length; i++)
        {
            differences |= (uint)(a[i] ^ b[i]);
        }

        return differences == 0;
    }
}
