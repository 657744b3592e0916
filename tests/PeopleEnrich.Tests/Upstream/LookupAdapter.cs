using System.Text.Json;
using System.Text.Json.Nodes;
using PeopleEnrich.Answers;
using PeopleEnrich.Sources.Upstream;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// What adding a provider with another API takes: this one class (and its protocol's name, registered with
/// AddUpstreamProtocol). The made-up <see cref="LookupProvider"/> answers one person per request, at
/// once, so a submission is one person (it leaves without waiting for the batch window) and is answered
/// while it is made. Its "verified" is its DELIVERABLE; an address it did not verify is only listed.
/// </summary>
public sealed class LookupAdapter(UpstreamChannel channel) : IUpstreamAdapter
{
    public const string Protocol = "lookup";

    public int MaxBatchSize => 1;

    public async Task<IUpstreamSubmission> SubmitAsync(IReadOnlyList<UpstreamAsk> asks, CancellationToken cancellationToken)
    {
        var person = asks.Single().Person;
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"lookup?first={Uri.EscapeDataString(person.FirstName)}&last={Uri.EscapeDataString(person.LastName)}&domain={Uri.EscapeDataString(person.Domain)}");
        request.Headers.TryAddWithoutValidation("X-Api-Key", channel.Upstream.ApiKey);
        using var response = await channel.SendAsync(request, cancellationToken);
        return new AnsweredSubmission([Read(await response.Content.ReadAsStringAsync(cancellationToken))]);
    }

    private static UpstreamAnswer Read(string body)
    {
        JsonObject answer;
        try
        {
            answer = JsonNode.Parse(body) as JsonObject ?? throw new UpstreamException("answered a lookup that is not a JSON object");
        }
        catch (JsonException)
        {
            throw new UpstreamException("answered a lookup that is not JSON");
        }

        var verified = answer["verified"]?.GetValueKind() == JsonValueKind.True;
        var email = answer["email"]?.GetValueKind() == JsonValueKind.String ? answer["email"]!.GetValue<string>() : null;
        var phone = answer["phone"]?.GetValueKind() == JsonValueKind.String ? answer["phone"]!.GetValue<string>() : null;
        return new UpstreamAnswer.Reported(
            email is null ? [] : [new ReportedEmail(email, verified ? EmailObservation.UpstreamDeliverable : EmailObservation.Listed, verified ? "verified" : "unverified")],
            phone is null ? [] : [new ReportedPhone(phone, Region: null)]);
    }
}
