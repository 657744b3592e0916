using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Tests.EmailFinder;

public sealed class SmtpReplyTests
{
    [Fact]
    public void A_multiline_reply_has_one_code_one_enhanced_code_and_its_lines_joined()
    {
        var reply = SmtpReply.Parse(
            "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n" +
            "550-5.1.1 double-checking the recipient's email address for typos or\r\n" +
            "550 5.1.1 unnecessary spaces.\r\n");

        Assert.Equal(550, reply.Code);
        Assert.Equal("5.1.1", reply.EnhancedCode);
        Assert.Equal(
            "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
            reply.Text);
        Assert.True(reply.IsPermanentFailure);
    }

    [Theory]
    [InlineData("250 OK", 250, null, "OK")]
    [InlineData("250", 250, null, "")]
    [InlineData("250 2.1.5 Ok", 250, "2.1.5", "Ok")]
    [InlineData("550 #5.1.0 Address rejected.", 550, "5.1.0", "Address rejected.")]
    [InlineData("550 5.1.10 RESOLVER.ADR.RecipientNotFound; x", 550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; x")]
    [InlineData("550 4.1.1 code classes disagree", 550, null, "4.1.1 code classes disagree")]
    [InlineData("550 5.7.606-649 Access denied", 550, null, "5.7.606-649 Access denied")]
    [InlineData("220 mx.acme.test ESMTP\n", 220, null, "mx.acme.test ESMTP")]
    [InlineData("250-mx.acme.test\n250 PIPELINING", 250, null, "mx.acme.test PIPELINING")]
    [InlineData("452 4.5.3 Too many recipients\r\n", 452, "4.5.3", "Too many recipients")]
    public void Replies_are_parsed(string raw, int code, string? enhanced, string text)
    {
        var reply = SmtpReply.Parse(raw);

        Assert.Equal(code, reply.Code);
        Assert.Equal(enhanced, reply.EnhancedCode);
        Assert.Equal(text, reply.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\r\n")]
    [InlineData("hello")]
    [InlineData("099 too low")]
    [InlineData("600 too high")]
    [InlineData("25 short")]
    [InlineData("250-first line only")]
    [InlineData("250-a\r\n550 b")]
    [InlineData("250 a\r\n250 b")]
    [InlineData("250-a\r\nnot a line\r\n250 b")]
    [InlineData("2500 four digits")]
    public void What_is_not_a_reply_is_refused(string raw)
    {
        Assert.False(SmtpReply.TryParse(raw, out _));
        Assert.Throws<FormatException>(() => SmtpReply.Parse(raw));
    }

    [Fact]
    public void Control_characters_a_server_sends_do_not_survive_into_the_text()
    {
        var reply = SmtpReply.Parse("550 5.1.1 no\u001b[2J such\ruser\0");

        Assert.DoesNotContain(reply.Text, char.IsControl);
        Assert.Equal("550 5.1.1 no [2J such user", reply.ToString());
    }

    [Fact]
    public void Null_is_not_a_reply()
    {
        Assert.False(SmtpReply.TryParse(null, out var reply));
        Assert.Null(reply);
    }

    [Theory]
    [InlineData("554 5.7.1 Service unavailable; Client host [192.0.2.17] blocked using zen.spamhaus.org",
        "554 5.7.1 Service unavailable; Client host [address withheld] blocked using zen.spamhaus.org")]
    [InlineData("550 5.7.1 Client host [IPv6:2001:db8::25] rejected", "550 5.7.1 Client host [address withheld] rejected")]
    [InlineData("554 Your address 203.0.113.9 is listed; see https://example.org/lookup?ip=203.0.113.9",
        "554 Your address address withheld is listed; see https://example.org/lookup?ip=address withheld")]
    [InlineData("421 4.7.0 2001:0db8:0000:0000:0000:ff00:0042:8329 throttled", "421 4.7.0 address withheld throttled")]
    // IPv6 shortened with "::" outside brackets: Exim's block-list text, Gmail's "[address  count]".
    [InlineData("550 rejected because 2001:db8::25 is in a black list at zen.spamhaus.org", "550 rejected because address withheld is in a black list at zen.spamhaus.org")]
    [InlineData("421 4.7.28 [2a00:1450:4864:20::135      15] Our system has detected an unusual rate of mail", "421 4.7.28 [address withheld      15] Our system has detected an unusual rate of mail")]
    // Not addresses: versions, times, enhanced codes, host names with digits.
    [InlineData("550 5.1.1 <j.doe@example.com>: user unknown (v1.2.3.4a) at 10:30:00", "550 5.1.1 <j.doe@example.com>: user unknown (v1.2.3.4a) at 10:30:00")]
    [InlineData("451 4.7.1 try mx1.10.0.0.1.example.net later", "451 4.7.1 try mx1.10.0.0.1.example.net later")]
    [InlineData("451 4.3.0 std::bad_alloc at 12:30:45, retry", "451 4.3.0 std::bad_alloc at 12:30:45, retry")]
    public void Addresses_a_server_echoes_are_withheld_from_what_callers_read(string raw, string shown)
    {
        Assert.Equal(shown, SmtpReply.Parse(raw).ToCustomerString());
    }
}
