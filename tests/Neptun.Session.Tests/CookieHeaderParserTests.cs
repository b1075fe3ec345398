namespace Neptun.Session.Tests;

public sealed class CookieHeaderParserTests
{
    [Theory]
    [InlineData("a=1", "1")]
    [InlineData("a=1; b=2", "1")]
    [InlineData("b=2; a=1", "1")]
    [InlineData("b=2;a=1;c=3", "1")]
    [InlineData("  a  =  1  ; b=2", "1")]
    [InlineData("\ta=1\t", "1")]
    [InlineData("\uFEFFa=1\u00A0", "1")]
    [InlineData("a=1=2", "1=2")]
    [InlineData("a=", "")]
    [InlineData("a=1; a=2", "1")]
    [InlineData("a=; a=2", "")]
    [InlineData("a=\"quoted\"", "quoted")]
    [InlineData("a=  \"quoted value\"  ", "quoted value")]
    [InlineData("a=\"unterminated", "unterminate")]
    [InlineData("a=\"", "")]
    [InlineData("a=x\"y\"", "x\"y\"")]
    [InlineData("a=hello%20world", "hello world")]
    [InlineData("a=%E2%82%AC%2A", "\u20AC*")]
    [InlineData("a=%F0%9F%98%80", "\U0001F600")]
    [InlineData("a=\"%2A\"", "*")]
    [InlineData("a=100%", "100%")]
    [InlineData("a=%ZZ", "%ZZ")]
    [InlineData("a=%4", "%4")]
    [InlineData("a=%C3", "%C3")]
    [InlineData("a=%C3x", "%C3x")]
    [InlineData("a=%C0%AF", "%C0%AF")]
    [InlineData("a=%ED%A0%80", "%ED%A0%80")]
    [InlineData("a=%2A%ZZ", "%2A%ZZ")]
    [InlineData("flag; a=1", "1")]
    [InlineData("x=1; flag; a=1", "1")]
    [InlineData("flag;other; a=1", "1")]
    public void Finds_the_value_as_cookie_es_does(string header, string expected)
    {
        Assert.Equal(expected, CookieValue.Find(header, "a"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("b=2")]
    [InlineData("a")]
    [InlineData("a; b=2")]
    [InlineData("ab=1; A=2; a b=3")]
    [InlineData(";;;")]
    public void Has_no_value_without_a_pair_named_so(string? header)
    {
        Assert.Null(CookieValue.Find(header, "a"));
    }

    [Fact]
    public void Pair_without_equals_never_becomes_part_of_a_name()
    {
        Assert.Null(CookieValue.Find("x; a=1", "x; a"));
    }

    [Fact]
    public void Value_without_a_percent_sign_is_not_decoded()
    {
        // A '+' means a space only in form encoding; decodeURIComponent leaves it.
        Assert.Equal("a+b", CookieValue.Find("a=a+b", "a"));
    }
}
