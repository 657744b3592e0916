extern alias SimulatedWorld;

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// Names are user input, and the finder turns them into SMTP commands: nothing a person typed may reach
/// the wire except as [a-z0-9._-] in a local part. Control characters are refused at the API; everything
/// else the API accepts is submitted, and the mail servers' transcripts must show only the commands a
/// verification needs.
/// </summary>
public abstract partial class InjectionTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string HeloName = "verifier.peopleenrich.test";

    private static readonly string[] Domains = ["acme.test", "tls.test"];

    private static readonly string[] Mailboxes = ["zoe.smith", "lukasz.nowak", "mary.oneil", "jean.dupont"];

    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = Mailboxes },
            // The same over STARTTLS: the lines after the upgrade are recorded decrypted and checked the same way.
            new DomainDescription { Name = "tls.test", Mx = [new MxDescription { Host = "mx.tls.test" }], Starttls = StartTls.Offered, Mailboxes = Mailboxes },
        ],
    };

    // Names the API accepts (no U+0000..U+001F, U+007F) but that a careless finder would put on the wire.
    private static readonly (string First, string Last)[] HostileNames =
    [
        ("<script>alert(1)</script>", "Smith"),
        ("\"quoted\"", "\"Doe\""),
        ("a@b", "c@evil.test"),
        ("Bob", "<evil@evil.test>"),
        ("Eve", "x> RCPT TO:<evil@evil.test>"),
        ("Zoë", "Smith"),
        ("Łukasz", "Nowak"),
        ("Jean-Pierre", "Dupont"),
        ("Mary", "O'Neil"),
        ("😀", "Smile 😀🙂"),
        ("\u202Eevil\u202C", "\u200FLee\u200E"), // right-to-left override, right-to-left and left-to-right marks
        (new string('a', 300), new string('b', 300)),
        ("Ann" + new string('n', 297), "Lee"),
        (new string('x', 40), new string('y', 40)), // each part fits, the two together exceed a 64-octet local part
        ("Eve\u2028RCPT TO:<evil@evil.test>", "Lee\u2029DATA"), // Unicode line and paragraph separators
        ("\u0085RCPT TO:<evil@evil.test>", "Lee\u0085QUIT"), // NEL, a C1 control the API lets through
        ("ｅｖｉｌ＠ｅｖｉｌ．ｔｅｓｔ", "＜Lee＞"), // full-width @ < > . (NFKC folds them to ASCII)
        ("%0d%0aDATA", "Smith%0D%0A"),
        ("'; DROP TABLE items; --", "Smith"),
        ("Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358\u0359", "Lee\u0300\u0301\u0302"), // stacked combining marks
        ("MAIL FROM:<x@evil.test>", "RSET"),
    ];

    [Fact]
    public async Task Control_characters_in_names_are_refused_before_anything_is_stored_or_asked()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        string[] hostile = ["Ann\rLee", "Ann\nLee", "\r\nRCPT TO:<evil@evil.test>", "Ann\r\nDATA", "Ann\tLee", "Ann\u0001", "\u001B[31mAnn", "Ann\u007F", "Ann\u000B\u000C"];
        var people = hostile.SelectMany(name => new[] { People.Person(name, "Lee", "acme.test"), People.Person("Ann", name, "acme.test") }).ToArray();

        using var response = await account.SubmitAsync(People.Batch(people));

        var locations = hostile.SelectMany((_, i) => new[] { $"body.requests[{2 * i}].firstname", $"body.requests[{(2 * i) + 1}].lastname" }).ToArray();
        var problem = await response.AssertUnprocessableAtAsync(locations);
        Assert.All(problem.Errors(), error => Assert.Contains("control character", error["message"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync()); // nothing reserved: nothing was stored
        Assert.Equal(0, app.World.TotalDnsQueries);
        Assert.Equal(0, app.World.TotalSessions);
    }

    [Fact]
    public async Task Hostile_names_the_api_accepts_put_nothing_but_plain_verification_commands_on_the_wire()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        var people = Domains.SelectMany(domain => HostileNames.Select(name => Query(name.First, name.Last, domain, null, Emails))).ToArray();

        var results = await account.EnrichAsync(people);

        // The names that spell a real mailbox still find it: the hostile ones were handled, not just dropped.
        for (var d = 0; d < Domains.Length; d++)
        {
            var domain = Domains[d];
            JsonNode ResultFor(string first, string last) => results[(d * HostileNames.Length) + Array.IndexOf(HostileNames, (first, last))];
            Assert.Equal([($"zoe.smith@{domain}", "DELIVERABLE")], EmailsOf(ResultFor("Zoë", "Smith")));
            Assert.Equal([($"lukasz.nowak@{domain}", "DELIVERABLE")], EmailsOf(ResultFor("Łukasz", "Nowak")));
            Assert.Equal([($"mary.oneil@{domain}", "DELIVERABLE")], EmailsOf(ResultFor("Mary", "O'Neil")));
        }

        for (var i = 0; i < results.Count; i++)
        {
            var domain = Domains[i / HostileNames.Length];
            Assert.All(EmailsOf(results[i]), email => Assert.Matches($"^[a-z0-9._-]{{1,64}}@{Regex.Escape(domain)}$", email.Email));
        }

        Assert.Equal(0, app.World.DataAttempts);
        Assert.Empty(app.World.Violations);
        foreach (var domain in Domains)
        {
            var host = Assert.Single(app.World.HostsOf(domain));
            AssertOnlyVerificationCommands(host, domain);
        }

        Assert.Contains(app.World.Host("mx.tls.test").Transcript.Lines, line => line.Tls && line.Direction == Direction.Received);
    }

    /// <summary>Every line the client sent this host is one plain line of a verification, about <paramref name="domain"/> only.</summary>
    private static void AssertOnlyVerificationCommands(SimulatedWorld::PeopleEnrich.MailWorld.MailHost host, string domain)
    {
        var sent = host.Transcript.Lines.Where(line => line.Direction == Direction.Received).ToList();
        Assert.True(sent.Count > 0, $"{host.Name} heard nothing: the test proves nothing");
        Assert.Contains(sent, line => line.Text.StartsWith("RCPT TO:", StringComparison.Ordinal));
        var transcript = host.Transcript.ToString();
        foreach (var line in sent)
        {
            Assert.True(line.Raw.EndsWith("\r\n", StringComparison.Ordinal), $"a line not ended by CRLF: {Visible(line.Raw)}\n{transcript}");
            Assert.True(PrintableAscii().IsMatch(line.Text), $"a line with other than printable ASCII: {Visible(line.Raw)}\n{transcript}");
            if (line.Text.StartsWith("RCPT TO:", StringComparison.Ordinal))
            {
                var match = Rcpt().Match(line.Text);
                Assert.True(match.Success, $"not a plain RCPT TO: {Visible(line.Raw)}\n{transcript}");
                Assert.Equal(domain, match.Groups["domain"].Value);
                Assert.Matches("^[a-z0-9._-]{1,64}$", match.Groups["local"].Value);
            }
            else
            {
                Assert.True(
                    line.Text is $"EHLO {HeloName}" or $"HELO {HeloName}" or "STARTTLS" or $"MAIL FROM:<verify@{HeloName}>" or "RSET" or "QUIT",
                    $"a command a verification does not need: {Visible(line.Raw)}\n{transcript}");
            }
        }

        Assert.DoesNotContain(sent, line => line.Text.StartsWith("DATA", StringComparison.OrdinalIgnoreCase) || line.Text.StartsWith("BDAT", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, host.DataAttempts);
    }

    private static string Visible(string raw) => string.Concat(raw.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\x{(int)c:X2}"));

    [GeneratedRegex("^[\\x20-\\x7E]{1,510}$")]
    private static partial Regex PrintableAscii();

    [GeneratedRegex("^RCPT TO:<(?<local>[^@<>]*)@(?<domain>[^@<>]*)>$")]
    private static partial Regex Rcpt();
}

public sealed class SqliteInjectionTests : InjectionTests<Sqlite>;

public sealed class PostgresInjectionTests : InjectionTests<Postgres>;
