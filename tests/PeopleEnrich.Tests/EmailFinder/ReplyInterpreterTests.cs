using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// Replies real servers sent, each with where it was seen. Host names and addresses inside them are
/// kept as found, except where an address is replaced with a documentation one (192.0.2.x, x@acme.test).
/// </summary>
public sealed class ReplyInterpreterTests
{
    [Theory]
    // Gmail, unknown account: a bounce log stored in a public PHP mail-tracking controller
    // ("74.125.141.26 does not like recipient. Remote host said: 550-5.1.1 The email account…"). The stored
    // copy stops after "Learn more at"; the final line is completed with Gmail's NoSuchUser help link.
    [InlineData("550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550-5.1.1 unnecessary spaces. Learn more at\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser", RcptOutcome.Rejected)]
    // Gmail, disabled account: listed in a public bounce-classification regex table.
    [InlineData("550 5.2.1 The email account that you tried to reach is disabled", RcptOutcome.Rejected)]
    // Outlook.com / Microsoft 365 (hotmail.com recipients, 104.47.40.33): the same PHP bounce log.
    [InlineData("550 5.5.0 Requested action not taken: mailbox unavailable. [CO1NAM03FT035.eop-NAM03.prod.protection.outlook.com]", RcptOutcome.Rejected)]
    // Older Hotmail front ends (65.55.92.152), same log: no enhanced code at all.
    [InlineData("550 Requested action not taken: mailbox unavailable", RcptOutcome.Rejected)]
    // Microsoft 365 directory-based edge blocking of an unknown recipient: quoted on qemu-devel (Thomas Huth,
    // a syrmia.com address) and in Linux kernel MAINTAINERS patches by Krzysztof Kozlowski removing bouncing addresses.
    [InlineData("550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DBAEUR03FT030.eop-EUR03.prod.protection.outlook.com]", RcptOutcome.Rejected)]
    // Exchange on-premises, unknown recipient: Linux kernel MAINTAINERS patch (Krzysztof Kozlowski, analog.com address).
    [InlineData("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", RcptOutcome.Rejected)]
    // Postfix virtual domains: the README of twisted1919/evs-go shows it for idontexist@mailwizz.com.
    [InlineData("550 5.1.1 <idontexist@mailwizz.com>: Recipient address rejected: User unknown in virtual mailbox table", RcptOutcome.Rejected)]
    // Yahoo: the bounce example in Postmark's bounce API documentation, as stored in a public client library.
    [InlineData("554 delivery error: dd This user doesn't have a yahoo.com account (vicelcown@yahoo.com) [0] - mta1543.mail.ne1.yahoo.com", RcptOutcome.Rejected)]
    // Exim: Russell King's Linux kernel patch removing nbd@openwrt.org ("SMTP error from remote mail server
    // after RCPT TO:<nbd@openwrt.org>: 550 Unrouteable address", host util-01.infra.openwrt.org).
    [InlineData("550 Unrouteable address", RcptOutcome.Rejected)]
    // Deutsche Telekom (mailin.ng.telekom.net): a public bounce-confirmation test list; note the "#" before the code.
    [InlineData("550 #5.1.0 Address rejected.", RcptOutcome.Rejected)]
    // RFC 5321 §3.4: the server will forward; the address is good.
    [InlineData("251 User not local; will forward to <jane@acme.test>", RcptOutcome.Accepted)]
    // Postfix's usual acceptance.
    [InlineData("250 2.1.5 Ok", RcptOutcome.Accepted)]
    // Mailbox over quota: the wording quoted in public Exim bounce fixtures ("SMTP error from remote mail
    // server after RCPT TO:<…>: 552 5.2.2 Mailbox full"); RFC 3463 X.2.2.
    [InlineData("552 5.2.2 Mailbox full", RcptOutcome.MailboxFull)]
    // Gmail's over-quota wording, as we remember its replies (not from a stored copy).
    [InlineData("452 4.2.2 The email account that you tried to reach is over quota.", RcptOutcome.MailboxFull)]
    // The recipient limit of one transaction (RFC 5321 §4.5.3.1.10): the wording Postfix and many servers use.
    [InlineData("452 4.5.3 Too many recipients", RcptOutcome.TooManyRecipients)]
    // Old servers said 552 for the same thing; it is about the session, not a full mailbox.
    [InlineData("552 Too many recipients", RcptOutcome.TooManyRecipients)]
    // Postfix with unknown_local_recipient_reject_code = 450 (its documented soft setting, see Postfix's
    // LOCAL_RECIPIENT_README); a Postfix log in public code shows "450 <…@cat.hfu.edu.tw>: User unknown in
    // local recipient table". A 4xx is never a verdict, whatever its words.
    [InlineData("450 4.1.1 <x@acme.test>: Recipient address rejected: User unknown in local recipient table", RcptOutcome.Temporary)]
    // postgrey greylisting: a session transcript to alphanet.ch stored in public code.
    [InlineData("450 4.2.0 <schaefer@alphanet.ch>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/alphanet.ch.html", RcptOutcome.Temporary)]
    [InlineData("451 4.7.1 Please try again later", RcptOutcome.Temporary)]
    // Postfix's reject_unknown_client_hostname, with its default unknown_client_reject_code = 450 (postconf(5)): a 4xx
    // about us, not the address, is a refusal of us.
    [InlineData("450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]", RcptOutcome.PolicyRefusal)]
    // …but only a 4.7.x reply's own words count: greylisting quotes the recipient and its domain, which may spell anything
    // ("verbly" holds "rbl", "helo.kim" holds "helo").
    [InlineData("450 4.2.0 <helo.kim@verbly.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/verbly.test.html", RcptOutcome.Temporary)]
    [InlineData("450 4.7.1 <helo.kim@verbly.test>: Recipient address rejected: Greylisted, see https://verbly.test/rbl-help", RcptOutcome.Temporary)]
    [InlineData("450 4.7.1 <unknown[192.0.2.1]>: Client host rejected: Greylisted, see http://postgrey.schweikert.ch/help/acme.test.html", RcptOutcome.Temporary)]
    // The American spelling and hyphenated forms are greylisting too (made-up wordings in the form of the reply above).
    [InlineData("450 4.7.1 <unknown[192.0.2.1]>: Client host rejected: Graylisted, please try again later", RcptOutcome.Temporary)]
    [InlineData("451 4.7.1 Client host rejected: grey-listed, your IP address will be accepted in 300 seconds", RcptOutcome.Temporary)]
    [InlineData("451 4.7.1 Client host rejected: Gray listing in action, please try again later", RcptOutcome.Temporary)]
    [InlineData("421 4.7.0 Try again later, closing connection.", RcptOutcome.Temporary)]
    // Microsoft's block list of sending IPs: the form real replies take (one code of the 5.7.606-649 range).
    [InlineData("550 5.7.606 Access denied, banned sending IP [192.0.2.10]. To request removal from this list please visit https://sender.office.com/ and follow the directions.", RcptOutcome.PolicyRefusal)]
    // …and verbatim as Microsoft's Exchange Online documentation prints it, with the range.
    [InlineData("550 5.7.606-649 Access denied, banned sending IP [x.x.x.x]; To request removal from this list please visit https://sender.office.com/ and follow the directions.", RcptOutcome.PolicyRefusal)]
    // Spamhaus via Postfix: a Postfix log quoted in public code (client 195.64.178.81).
    [InlineData("554 5.7.1 Service unavailable; Client host [195.64.178.81] blocked using zen.spamhaus.org; http://www.spamhaus.org/query/bl?ip=195.64.178.81", RcptOutcome.PolicyRefusal)]
    // Mimecast: a suppression-list note in public code ("550 Administrative prohibition - envelope blocked",
    // "a Mimecast policy block … not a dead mailbox").
    [InlineData("550 Administrative prohibition - envelope blocked", RcptOutcome.PolicyRefusal)]
    // Proofpoint: suped.com reports Proofpoint IP blocks as "554 with a 5.7.0 blocked message"; the exact
    // wording and the ipcheck link are as such bounces are commonly quoted, not from a stored copy.
    [InlineData("554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", RcptOutcome.PolicyRefusal)]
    // Relaying refused, naming the recipient: an antionline.com question ("554 <…>: Recipient address rejected: Relay access denied").
    [InlineData("554 <x@acme.test>: Recipient address rejected: Relay access denied", RcptOutcome.PolicyRefusal)]
    // Postfix reject_unknown_client_hostname: about our host, not the address.
    [InlineData("554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied", RcptOutcome.PolicyRefusal)]
    // A 5xx that names neither the address nor us.
    [InlineData("550 5.0.0 Error", RcptOutcome.Unexplained)]
    [InlineData("554 Transaction failed", RcptOutcome.Unexplained)]
    public void Rcpt_replies_from_real_servers_are_read_as_observations(string raw, RcptOutcome expected)
    {
        Assert.Equal(expected, ReplyInterpreter.InterpretRcpt(SmtpReply.Parse(raw)));
    }

    // A policy refusal at RCPT stops all probing of the host only when its own words are about us, not when the recipient or
    // a link it quotes happens to spell a word that would be ("helo.kim", "verbly" holding "rbl").
    /// <summary>
    /// Which rejections answer the catch-all probe's question (the server rejects addresses that do not exist): "no such
    /// mailbox" does; a mailbox disabled, a policy, a full mailbox, a deferral or an unexplained refusal does not.
    /// </summary>
    [Theory]
    [InlineData("550 5.1.1 <jane.doe@acme.test>: Recipient address rejected: User unknown", true)]
    [InlineData("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", true)]
    [InlineData("550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DBAEUR03FT030.eop-EUR03.prod.protection.outlook.com]", true)]
    [InlineData("554 delivery error: dd This user doesn't have a yahoo.com account (x@acme.test) [0] - mta1543.mail.ne1.yahoo.com", true)]
    [InlineData("550 5.2.1 The email account that you tried to reach is disabled", false)]
    [InlineData("550 5.1.1 <jane.doe@acme.test>: account disabled", false)]
    [InlineData("550 User is no longer with the company", false)]
    [InlineData("550 5.7.1 <jane.doe@acme.test>: Recipient address rejected: Access denied", false)]
    [InlineData("552 5.2.2 <jane.doe@acme.test>: Recipient address rejected: Mailbox full", false)]
    [InlineData("450 4.1.1 <jane.doe@acme.test>: Recipient address rejected: User unknown in local recipient table", false)]
    [InlineData("550 5.5.0 Requested action not taken", false)]
    [InlineData("250 2.1.5 Ok", false)]
    public void Only_no_such_mailbox_says_the_server_rejects_addresses_that_do_not_exist(string raw, bool noSuchMailbox)
    {
        Assert.Equal(noSuchMailbox, ReplyInterpreter.SaysNoSuchMailbox(SmtpReply.Parse(raw)));
    }

    [Theory]
    [InlineData("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1", true)]
    [InlineData("550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]", true)]
    [InlineData("550 5.7.1 <helo.kim@acme.test>: Recipient address rejected: Access denied", false)]
    [InlineData("554 5.7.1 <jane@verbly.test>: Recipient address rejected: see https://verbly.test/policy", false)]
    public void Only_a_refusals_own_words_say_it_is_about_us(string raw, bool aboutUs)
    {
        Assert.Equal(aboutUs, ReplyInterpreter.RefusesTheClient(SmtpReply.Parse(raw)));
    }

    // A refusal of us counts towards pausing all probing (Smtp:BlockListPauseHosts) only when it names a block list itself,
    // not when the recipient it quotes happens to spell one ("verbly" holds "rbl"). As MailboxProber keeps it: the whole reply.
    [Theory]
    [InlineData("550 5.7.1 <helo.kim@verbly.test>: Client host rejected: cannot find your reverse hostname, [192.0.2.1]", false)]
    [InlineData("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1", true)]
    [InlineData("554 5.7.1 <jane@acme.test>: Client host [192.0.2.1] blocked using bl.spamcop.net", true)]
    public void Only_a_refusals_own_words_name_a_block_list(string raw, bool namesBlockList)
    {
        Assert.Equal(namesBlockList, ReplyInterpreter.NamesBlockList(SmtpReply.Parse(raw).ToString()));
    }

    [Theory]
    [InlineData(SessionStep.Greeting, "220 mx.google.com ESMTP a1si123 - gsmtp", SessionOutcome.Proceed)]
    [InlineData(SessionStep.Greeting, "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", SessionOutcome.Refused)]
    [InlineData(SessionStep.Greeting, "554 No SMTP service here", SessionOutcome.Refused)]
    [InlineData(SessionStep.Greeting, "421 4.7.0 Try again later, closing connection.", SessionOutcome.Temporary)]
    [InlineData(SessionStep.Ehlo, "250-mx.acme.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME", SessionOutcome.Proceed)]
    [InlineData(SessionStep.Ehlo, "502 5.5.2 Error: command not recognized", SessionOutcome.RetryWithHelo)]
    [InlineData(SessionStep.Ehlo, "500 Command unrecognized", SessionOutcome.RetryWithHelo)]
    [InlineData(SessionStep.Ehlo, "550 5.7.1 Client host rejected: cannot find your hostname", SessionOutcome.Refused)]
    [InlineData(SessionStep.MailFrom, "250 2.1.0 Ok", SessionOutcome.Proceed)]
    [InlineData(SessionStep.MailFrom, "553 5.7.1 <probe@acme.test>: Sender address rejected: not owned by user", SessionOutcome.Refused)]
    [InlineData(SessionStep.MailFrom, "451 4.3.0 Temporary lookup failure", SessionOutcome.Temporary)]
    [InlineData(SessionStep.MailFrom, "354 End data with <CR><LF>.<CR><LF>", SessionOutcome.Temporary)]
    public void Replies_before_rcpt_say_whether_the_session_can_go_on(SessionStep step, string raw, SessionOutcome expected)
    {
        Assert.Equal(expected, ReplyInterpreter.InterpretSession(step, SmtpReply.Parse(raw)));
    }
}
