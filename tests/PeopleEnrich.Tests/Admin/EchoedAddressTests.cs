using System.Net;
using PeopleEnrich.Admin.Doctor;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Tests.Admin;

/// <summary>The address a mail server sees us at, as real servers write it in the first line of their EHLO reply.</summary>
public sealed class EchoedAddressTests
{
    [Theory]
    [InlineData("250-mx.example.net Hello verifier.example.org [192.0.2.1]\r\n250-SIZE 52428800\r\n250 HELP", "192.0.2.1")] // Exim
    [InlineData("250-mx.google.com at your service, [198.51.100.7]\r\n250-SIZE 157286400\r\n250 SMTPUTF8", "198.51.100.7")] // Gmail
    [InlineData("250-AM4PEPF00027A6C.mail.protection.outlook.com Hello [203.0.113.9]\r\n250 CHUNKING", "203.0.113.9")] // Microsoft
    [InlineData("250-mail.example.com Hello verifier [IPv6:2001:db8::25], pleased to meet you\r\n250 HELP", "2001:db8::25")] // Sendmail over IPv6
    [InlineData("250-mx.example.com Hello [::ffff:192.0.2.44]\r\n250 HELP", "192.0.2.44")]
    [InlineData("250 mx.example.com Hello [192.0.2.5]", "192.0.2.5")]
    public void The_first_address_literal_of_the_first_line_is_the_one_seen(string raw, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), ClientAddressCheck.EchoedAddress(SmtpReply.Parse(raw)));

    [Theory]
    [InlineData("250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME")] // Postfix names only itself
    [InlineData("250-mx.example.com Hello [not.an.address]\r\n250 HELP")]
    [InlineData("250-mx.example.com Hello\r\n250-X-NOTE [192.0.2.1]\r\n250 HELP")] // an address on a later line is not the greeting's
    public void A_reply_that_echoes_no_address_gives_none(string raw) =>
        Assert.Null(ClientAddressCheck.EchoedAddress(SmtpReply.Parse(raw)));
}
