namespace Neptun.Session.Tests;

/// <summary>The cache's seal comparison finds a difference wherever it is, in whole words and in the tail.</summary>
public sealed class ConstantTimeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(301)]
    public void A_difference_at_any_position_is_seen(int length)
    {
        string value = new('a', length);
        Assert.True(ConstantTime.Equals(value, new string('a', length)));
        for (int position = 0; position < length; position++)
        {
            string other = string.Concat(value.AsSpan(0, position), "b", value.AsSpan(position + 1));
            Assert.False(ConstantTime.Equals(value, other), $"difference at {position} of {length}");
        }
    }

    [Fact]
    public void A_difference_in_a_character_s_high_byte_is_seen() =>
        Assert.False(ConstantTime.Equals("seal", "sea\u016C"));

    [Fact]
    public void Values_of_other_lengths_differ()
    {
        Assert.False(ConstantTime.Equals("seal", "seal!"));
        Assert.True(ConstantTime.Equals(string.Empty, string.Empty));
    }
}
