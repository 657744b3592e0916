using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Answers;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// Every address and number an upstream gives says where it came from, for "why this address?": the
/// upstream's configured name, when its answer arrived (by the app's clock), and what it reported of the
/// address; never its key.
/// </summary>
public sealed class UpstreamProvenanceTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Evidence_from_a_contract_upstream_carries_its_name_when_its_answer_came_and_the_status_it_reported()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Answer = person => new JsonObject
        {
            ["emails"] = new JsonArray(
                new JsonObject { ["email"] = ScriptedUpstream.DefaultAddress(person), ["status"] = "HIGH_PROBABILITY" },
                new JsonObject { ["email"] = "ada@engines.com", ["status"] = "INVALID" }),
            ["phones"] = new JsonArray(new JsonObject { ["number"] = "+33 6 12 34 56 78", ["region"] = "FR" }),
        };
        var key = UpstreamSettings.NewKey();
        var settings = UpstreamSettings.For(upstream.BaseUrl, key, name: "tamtam");
        settings["Upstreams:0:BatchWindow"] = "00:00:00"; // the fake clock never moves: nothing may wait on it
        await using var host = UpstreamSourceHost.Start(settings, new FakeTimeProvider(Start));

        var findings = await host.FindAsync(new Person("Ada", "King", "engines.com", null, null));

        Assert.Equal(
            [
                ("ada.king@engines.com", EmailObservation.UpstreamHighProbability, new UpstreamProvenance(Start, "tamtam", "HIGH_PROBABILITY")),
                ("ada@engines.com", EmailObservation.UpstreamInvalid, new UpstreamProvenance(Start, "tamtam", "INVALID")),
            ],
            findings.Emails.Select(e => (e.Address, e.Observation, e.Provenance)));
        var phone = Assert.Single(findings.Phones);
        Assert.Equal(("+33612345678", new UpstreamProvenance(Start, "tamtam", null)), (phone.E164, phone.Provenance));
        Assert.All(findings.Emails.Select(e => e.Provenance).Append(phone.Provenance), p => Assert.DoesNotContain(key, p!.ToString()));
    }
}
