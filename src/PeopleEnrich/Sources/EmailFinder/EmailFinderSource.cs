using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Smtp;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>
/// Finds a person's address with no database: candidate local parts from the name, asked of the
/// domain's mail servers with RCPT TO (never DATA), beside a random recipient that tells a catch-all
/// domain from one that checks. What was seen becomes evidence; <see cref="Verdict"/> grades it.
/// Addresses listed by earlier sources (the directory) are asked about first.
/// </summary>
public sealed class EmailFinderSource(
    KnownRouting routes, DomainSessions sessions, DomainKnowledge knowledge, GreylistSchedules greylisting, DomainPlantings plantings,
    SharedGreylisting shared, IOptions<SmtpOptions> options, IOptions<WaterfallOptions> waterfall, TimeProvider time,
    ILogger<EmailFinderSource> logger) : IEnrichmentSource
{
    public string Name => "email-finder";

    public EnrichFields Provides => EnrichFields.Emails;

    /// <summary>
    /// The waterfall's clock would count the time a person waits in their domain's lane while the people ahead are
    /// asked about (a lane asks one domain's people one recipient at a time, politely): a person at the back of a busy
    /// domain would be cut off for others' time, and the answer lost. So the finder bounds itself instead, step by step:
    /// each DNS question by <c>Dns:Timeout</c>, each connection by <c>Smtp:ConnectTimeout</c> and each SMTP reply by
    /// <c>Smtp:CommandTimeout</c>; a lane only ever waits on such steps, and a person's candidates are at most
    /// <c>Smtp:MaxCandidates</c>, so it moves on. <c>Workers:MaxItemTime</c> bounds it all.
    /// </summary>
    public bool BoundsItsOwnTime => true;

    public async Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var domain = person.Domain;
        if (!settings.Enabled || ReservedDomains.NeverContact(domain) || FreeMailDomains.Contains(domain) || FreeMailDomains.IsDisposable(domain))
        {
            return SourceFindings.Nothing;
        }

        var names = PersonNames.Parse(person.FirstName, person.LastName);
        var listed = context.EmailsSoFar
            .Where(e => e.Observation == EmailObservation.Listed && e.Address.EndsWith("@" + domain, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(e => e.Address.ToLowerInvariant())
            .ToList();
        await LearnFromListedAsync(domain, names, listed, cancellationToken);

        var routing = await routes.ResolveAsync(domain, cancellationToken);
        switch (routing)
        {
            case MailRouting.NoMail noMail:
                logger.LogInformation("{Domain} takes no mail: {Why}", domain, noMail.Why);
                return SourceFindings.Nothing;
            case MailRouting.Unresolved unresolved:
                logger.LogInformation("DNS could not say where mail for {Domain} goes: {Why}", domain, unresolved.Why);
                return SourceFindings.CouldNotCheck($"DNS did not answer for {domain}");
            case MailRouting.Hosts { Exchangers: var hosts } when hosts.All(h => h.Addresses.Count == 0):
                // Its MX names hosts that do not exist or have no address: mail to the domain bounces now (Postfix: 5.4.4),
                // and no address of it can be checked. Not asked again soon: a fix takes DNS's time to reach us, not seconds.
                logger.LogInformation("The mail hosts of {Domain} have no address in DNS: {Hosts}", domain, string.Join(", ", hosts.Select(h => h.Name)));
                return SourceFindings.CouldNotCheck(NoAddress(domain, hosts), retryable: false);
        }

        var facts = await knowledge.GetAsync(domain, cancellationToken);
        var learned = facts.Pattern is { } pattern ? new KnownPattern(pattern.Pattern, pattern.Observations) : null;
        var allCandidates = names.IsEmpty ? [] : Candidates.For(names, learned, settings.MaxCandidates);
        // A reported bounce is never asked again (no reply, heard now or remembered, can bring it back): it is said INVALID instead.
        var bounced = facts.Bounced.ToDictionary(b => b.Address, StringComparer.Ordinal);
        var candidates = allCandidates.Where(c => !bounced.ContainsKey($"{c.LocalPart}@{domain}")).ToList();
        var listedAddresses = listed.Select(e => e.Address.ToLowerInvariant()).Where(IsPlainAddress).Where(a => !bounced.ContainsKey(a)).ToList();
        var bouncedOfPerson = allCandidates.Select(c => $"{c.LocalPart}@{domain}").Where(bounced.ContainsKey).Distinct()
            .Select(address => bounced[address].ToEvidence()).ToList();
        // Every address found is at the domain, whose bounces were just read and left out (or said INVALID): no second look.
        var found = await FindAsync(domain, names, listedAddresses, candidates, facts, routing, context, settings, cancellationToken) with { BouncesChecked = true };
        return bouncedOfPerson.Count == 0 ? found : found with { Emails = [.. bouncedOfPerson, .. found.Emails] };
    }

    private async Task<SourceFindings> FindAsync(string domain, NameParts names, IReadOnlyList<string> listedAddresses, IReadOnlyList<Candidate> candidates, DomainFacts facts,
        MailRouting routing, SourceContext context, SmtpOptions settings, CancellationToken cancellationToken)
    {
        if (facts.CatchAll == true)
        {
            return CatchAll(domain, listedAddresses, candidates, facts);
        }

        // Stable for the domain, so that a greylisting server sees the same recipients when we come back.
        var probe = facts.CatchAll == false ? null : ProbeAddress(domain);
        var recipients = listedAddresses.Select(address => new Recipient(address, null))
            .Concat(candidates.Select(c => new Recipient($"{c.LocalPart}@{domain}", c.Pattern.ToString())).Where(r => IsPlainAddress(r.Address)))
            .DistinctBy(r => r.Address)
            .ToList();
        if (context.Deferrals > 0)
        {
            // A retry may be claimed by any process: what the others heard at the domain first.
            await shared.LoadAsync(domain, recipients.Select(r => r.Address), cancellationToken);
        }

        var known = new KnownShapes(facts.Shapes.Select(s => (s.Pattern.ToString(), s.Observations)).ToList());
        var rules = new WalkRules(settings.PatternEstablishedBy, settings.AlternativesWhenEstablished, settings.GuessesWhenEstablished,
            Greylisted: context.Deferrals > 0, WaitForRound: context.Deferrals > 0 && context.Deferrals < settings.MaxGreylistRetries - 1 && greylisting.RoundStillAnswering(domain))
        {
            GuessesWhenSeenOnce = settings.GuessesWhenSeenOnce,
            // Only back at a greylisting server: a first session's odd 4xx to one candidate is no round to wait for.
            PlantsPerRound = context.Deferrals > 0 ? WalkRules.PlantsInRound(context.Deferrals, settings.MaxGreylistRetries, settings.GreylistPlantsPerRound) : int.MaxValue,
        };
        var priors = candidates.Select(c => ($"{c.LocalPart}@{domain}", c.Prior)).DistinctBy(c => c.Item1).ToDictionary(c => c.Item1, c => c.Prior);
        var planted = context.Deferrals > 0 ? greylisting.PlantedAmong(recipients.Select(r => r.Address)) : null;
        var walk = new CandidateWalk(recipients, probe is not null, known, rules, priors, plantings.Of(domain), planted);
        // A cold domain's lane asks a candidate before the probe, whose "no such mailbox" spares the probe; a greylisting domain's
        // keeps the probe first, planted before its people's candidates and asked first on each retry (rule 7).
        var probeFirst = !settings.CandidateBeforeProbe || context.Deferrals > 0 || greylisting.RoundOf(domain) is not null;
        var report = await sessions.AskAsync(domain, (MailRouting.Hosts)routing, probe, walk, cancellationToken, recheckUnreachable: context.AskingAgain, probeFirst: probeFirst);
        try
        {
            return await ConcludeAsync(domain, names, listedAddresses, candidates, facts, context, settings, probe, walk, report, cancellationToken);
        }
        finally
        {
            if (context.Deferrals > 0 || report.HeardNotNow)
            {
                // After the rounds were moved on (the retry given) and the answers heard: for the process that claims the retry.
                await shared.SaveAsync(domain, report, recipients.ToDictionary(r => r.Address, r => r.Tag, StringComparer.OrdinalIgnoreCase), cancellationToken);
            }
        }
    }

    /// <summary>What the domain's servers said to the person's walk becomes findings, a gap, or the person put off to the domain's next round.</summary>
    private async Task<SourceFindings> ConcludeAsync(string domain, NameParts names, IReadOnlyList<string> listedAddresses, IReadOnlyList<Candidate> candidates,
        DomainFacts facts, SourceContext context, SmtpOptions settings, string? probe, CandidateWalk walk, PersonProbeResult report, CancellationToken cancellationToken)
    {
        var probeOutcome = probe is null ? RcptOutcome.Rejected : report.Probe?.Outcome;
        var deferrable = context.Deferrals < settings.MaxGreylistRetries;
        greylisting.Heard(domain, report.Probe, report.Recipients);
        if (context.Deferrals > 0 && probeOutcome == RcptOutcome.Rejected && report.Recipients.Any(r => r.Outcome is RcptOutcome.Accepted or RcptOutcome.Rejected))
        {
            greylisting.Answering(domain);
        }

        if (report.Failure is { } failure && report.Recipients.Count == 0 && report.Probe is null)
        {
            // A server that said "not now" (greylisting, busy) is come back to on its schedule; one that did not answer is an outage, the waterfall's.
            if (failure is { Temporary: true, Reply: not null } && deferrable)
            {
                throw new SourceDeferredException(greylisting.NextRetry(domain), failure.Why);
            }

            logger.LogInformation("No verdict for addresses at {Domain}: {Why}", domain, failure.Why);
            // A gap, unless the failure is the domain's lasting answer (its mail hosts are at private addresses).
            return GapOf(domain, failure) is { } gap ? SourceFindings.Nothing.Lacking(gap) : SourceFindings.Nothing;
        }

        if (probeOutcome == RcptOutcome.Accepted)
        {
            await knowledge.RecordCatchAllAsync(domain, true, report.Probe?.Host, report.Probe?.Reply.ToCustomerString(), cancellationToken);
            return CatchAll(domain, listedAddresses, candidates, await knowledge.GetAsync(domain, cancellationToken));
        }

        var anyAccepted = report.Recipients.Any(r => r.Outcome == RcptOutcome.Accepted);
        // A full mailbox is one only where a made-up recipient was rejected: while the probe is deferred it waits for the probe's round.
        var full = probeOutcome == RcptOutcome.Rejected ? report.Recipients.FirstOrDefault(r => r.Outcome == RcptOutcome.MailboxFull) : null;
        var deferred = report.HeardNotNow;
        // An acceptance counts only where the probe was rejected: one heard before a probe the server deferred waits for its round.
        if (deferrable && (!anyAccepted || probeOutcome != RcptOutcome.Rejected) && full is null && deferred)
        {
            // Not asked the probe: its answer, recorded since the domain's round began, says the delay has passed.
            var probePassed = probe is not null || (facts.CatchAllSeen is { } seen && greylisting.SinceRoundBegan(domain, seen.At));
            var late = walk.PlantedLateStillDeferred && probePassed;
            var stillDeferred = report.Deferred.Select(r => r.Address);
            // Once the domain's delay is known, what was planted is come back to when it has waited that long: a candidate
            // planted in a later round (one a round) passes a whole delay after it, which the schedule's steps do not follow.
            var nextRound = greylisting.NextRetry(domain);
            throw new SourceDeferredException(
                greylisting.WhenPlantedPasses(domain, stillDeferred) ?? (late ? greylisting.CatchUp : nextRound),
                $"{report.Host ?? $"the mail server of {domain}"} deferred some recipients (greylisting)");
        }

        if (probeOutcome != RcptOutcome.Rejected)
        {
            // Nothing tells a real mailbox from a polite server: no verdict on any address, and the answer says why.
            return SourceFindings.Nothing.Lacking(ProbeGap(domain, report));
        }

        if (probe is not null)
        {
            await knowledge.RecordCatchAllAsync(domain, false, report.Probe?.Host, report.Probe?.Reply.ToCustomerString(), cancellationToken);
        }

        if (walk.WaitsForRound && deferrable)
        {
            throw new SourceDeferredException(greylisting.CatchUp, $"waiting for the rest of {domain}'s greylisting round before planting more (greylisting)");
        }

        var findings = await FindingsFromRepliesAsync(domain, names, report.Recipients, cancellationToken);
        if (anyAccepted)
        {
            return findings;
        }

        // A walk left unfinished (a session lost, recipients deferred or refused to us, or answered with no verdict on them)
        // found nothing because it could not look.
        var policy = report.Recipients.FirstOrDefault(r => r.Outcome == RcptOutcome.PolicyRefusal);
        var unclear = report.Recipients.FirstOrDefault(r => r.Outcome is RcptOutcome.Unexplained or RcptOutcome.TooManyRecipients);
        // A full mailbox is the person's address (the walk ended there): what is said of it is that mail would not reach it now.
        var unfinished = full is not null ? MailboxFull(full)
            : deferred ? KeptDeferring(domain)
            : report.Failure is { } lost ? GapOf(domain, lost)
            : policy is not null ? RefusedByPolicy(domain, policy)
            : unclear is not null ? DidNotSay(domain, unclear)
            : null;
        return unfinished is null ? findings : findings.Lacking(unfinished);
    }

    /// <summary>
    /// What could not be checked when the domain's servers gave us no session; null for the domain's lasting answer (a
    /// mail host at a private address). A server that did not answer may be back soon; a refusal
    /// of us will not change, and one that kept deferring had its greylisting retries (<c>Smtp:MaxGreylistRetries</c>).
    /// </summary>
    /// <remarks>
    /// Hosts remembered unreachable (<c>Smtp:UnreachableTtl</c>) were found so for someone else lately, whose item is put
    /// off and tries them again. Once they have failed for as long as those retries last (<c>Waterfall:OutageRetryAfter</c>),
    /// they are down: this person is answered so at once, not put off to wait for the same dead hosts. Before that, a
    /// moment's failure (a mail host many domains share, a network blip) puts this person off too, to try them again.
    /// </remarks>
    private SourceGap? GapOf(string domain, SessionFailure failure) => failure switch
    {
        { BudgetSpent: true } => new SourceGap(failure.Why, Retryable: true), // put off until the budget has room
        { RefusedUs: true } => RefusedUs(failure.Host, failure.Reply, failure.Why),
        { Paused: true } => new SourceGap(SmtpReply.WithholdAddresses(failure.Why), Retryable: false),
        { Temporary: true, Reply: not null } => KeptDeferring(domain),
        { RememberedUnreachable: true } when failure.UnreachableFor >= OutageRetriesSpan => DidNotAnswer(domain) with { Retryable = false },
        { Temporary: true } => DidNotAnswer(domain),
        _ => null,
    };

    /// <summary>From an outage's first failure to its item's last retry: how long a host must have failed to be taken as down.</summary>
    private TimeSpan OutageRetriesSpan => waterfall.Value.OutageRetrySchedule.Aggregate(TimeSpan.Zero, (sum, wait) => sum + wait);

    /// <summary>The probe said nothing about made-up addresses, so no reply can be read as a verdict.</summary>
    private SourceGap ProbeGap(string domain, PersonProbeResult report) => report.Probe switch
    {
        null => (report.Failure is { } failure ? GapOf(domain, failure) : null) ?? DidNotAnswer(domain),
        { Outcome: RcptOutcome.PolicyRefusal } refused => RefusedByPolicy(domain, refused),
        { Outcome: RcptOutcome.Temporary } => KeptDeferring(domain),
        var unclear => DidNotSay(domain, unclear),
    };

    /// <summary>The server said the mailbox is full: it exists, but whether mail would reach it is "not now". Not asked again soon.</summary>
    private static SourceGap MailboxFull(RcptObservation full) =>
        new($"the mail server {full.Host} said the mailbox {full.Address} is full: it exists, but mail to it would not be delivered now ({full.Reply.ToCustomerString()})", Retryable: false);

    /// <summary>A recipient answered with something that is no verdict on it (neither "exists" nor "no such mailbox").</summary>
    private static SourceGap DidNotSay(string domain, RcptObservation unclear) =>
        new($"the mail server {unclear.Host} did not say whether an address of {domain} exists: {unclear.Reply.ToCustomerString()}", Retryable: false);

    /// <summary>
    /// A recipient refused for a policy reason (x.7.x, "relay access denied", …): a refusal of us only when its words are
    /// about us (a block list, our address or name); otherwise the server's own rule, quoted as it said it, is no verdict on the address.
    /// </summary>
    private static SourceGap RefusedByPolicy(string domain, RcptObservation refused) => ReplyInterpreter.RefusesTheClient(refused.Reply)
        ? RefusedUs(refused.Host, refused.Reply)
        : new($"the mail server {refused.Host} refused addresses of {domain} by its policy, which says nothing of whether they exist: {refused.Reply.ToCustomerString()}", Retryable: false);

    private static SourceGap RefusedUs(string? host, SmtpReply? reply, string? why = null) =>
        new($"the mail server {host ?? "of the domain"} refused us: {reply?.ToCustomerString() ?? SmtpReply.WithholdAddresses(why ?? "")}", Retryable: false);

    private static string NoAddress(string domain, IReadOnlyList<Verification.Dns.MailHost> hosts) => hosts.Count == 1
        ? $"the mail server of {domain} ({hosts[0].Name}) has no address in DNS"
        : $"the mail servers of {domain} ({string.Join(", ", hosts.Select(h => h.Name))}) have no address in DNS";

    private static SourceGap DidNotAnswer(string domain) => new($"the mail servers of {domain} did not answer", Retryable: true);

    private static SourceGap KeptDeferring(string domain) => new($"the mail servers of {domain} kept deferring us", Retryable: false);

    /// <summary>Addresses that a source published for this person teach the domain's pattern.</summary>
    private async Task LearnFromListedAsync(string domain, NameParts names, IReadOnlyList<EmailEvidence> listed, CancellationToken cancellationToken)
    {
        foreach (var address in listed)
        {
            var local = LocalPart(address.Address);
            await knowledge.RecordAddressAsync(domain, local, AddressPatterns.Detect(local, names), fromDirectory: address.Source == "directory", cancellationToken);
        }
    }

    /// <summary>On a domain that rejects made-up recipients: accepted (or full) is a mailbox and teaches the pattern, rejected is none.</summary>
    private async Task<SourceFindings> FindingsFromRepliesAsync(string domain, NameParts names, IReadOnlyList<RcptObservation> replies, CancellationToken cancellationToken)
    {
        var evidence = new List<EmailEvidence>();
        foreach (var observation in replies)
        {
            switch (observation.Outcome)
            {
                case RcptOutcome.Accepted:
                    evidence.Add(new EmailEvidence(observation.Address, Name, EmailObservation.MailboxAccepted) { Provenance = SmtpSaw(observation) });
                    await RecordAddressAsync(domain, names, observation, cancellationToken);
                    break;
                case RcptOutcome.Rejected:
                    evidence.Add(new EmailEvidence(observation.Address, Name, EmailObservation.MailboxRejected) { Provenance = SmtpSaw(observation) });
                    break;
                case RcptOutcome.MailboxFull:
                    // The reply, quoted in the evidence, says why: the mailbox is full. It exists, so it shows the domain's shape.
                    evidence.Add(new EmailEvidence(observation.Address, Name, EmailObservation.MailboxFull) { Provenance = SmtpSaw(observation) });
                    await RecordAddressAsync(domain, names, observation, cancellationToken);
                    break;
            }
        }

        return new SourceFindings(evidence, []);
    }

    private Task RecordAddressAsync(string domain, NameParts names, RcptObservation mailbox, CancellationToken cancellationToken)
    {
        var local = LocalPart(mailbox.Address);
        return knowledge.RecordAddressAsync(domain, local, AddressPatterns.Detect(local, names), fromDirectory: false, cancellationToken);
    }

    /// <summary>
    /// A catch-all domain's server says nothing of any one address: the listed ones (backed by their
    /// source) and else the single best candidate, never a list of guesses.
    /// </summary>
    /// <remarks>
    /// The evidence of each is the probe's answer (the server accepted a made-up recipient) and, for a guess,
    /// the pattern that chose it with the addresses seen at the domain in that pattern (none for a common pattern).
    /// </remarks>
    private SourceFindings CatchAll(string domain, IReadOnlyList<string> listed, IReadOnlyList<Candidate> candidates, DomainFacts facts)
    {
        var probe = facts.CatchAllSeen is { } seen ? new SmtpProvenance(seen.At, seen.MxHost, seen.Reply, CatchAll: true) : null;
        var evidence = listed.Select(address => new EmailEvidence(address, Name, EmailObservation.AcceptedByCatchAll) { Provenance = probe }).ToList();
        if (evidence.Count == 0 && candidates.Count > 0)
        {
            var best = candidates[0];
            var address = $"{best.LocalPart}@{domain}";
            evidence.Add(new EmailEvidence(address, Name, EmailObservation.AcceptedByCatchAll) { Provenance = probe });
            evidence.Add(facts.Pattern is { IsBackedByEvidence: true } learned && learned.Pattern == best.Pattern
                ? new EmailEvidence(address, Name, EmailObservation.FollowsLearnedPattern)
                {
                    Provenance = new PatternProvenance(learned.LastSeen, AddressPatterns.Of(learned.Pattern).Template, learned.Supporting.Select(local => $"{local}@{domain}").ToList()),
                }
                : new EmailEvidence(address, Name, EmailObservation.FollowsCommonPattern)
                {
                    Provenance = new PatternProvenance(time.GetUtcNow(), AddressPatterns.Of(best.Pattern).Template, []),
                });
        }

        return new SourceFindings(evidence, []);
    }

    private static SmtpProvenance SmtpSaw(RcptObservation observation) =>
        new(observation.At, observation.Host, observation.Reply.ToCustomerString(), CatchAll: false);

    private static string ProbeAddress(string domain)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes($"peopleenrich-probe|{domain}"));
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return "x" + new string(seed.Take(15).Select(b => alphabet[b % alphabet.Length]).ToArray()) + "@" + domain;
    }

    private static string LocalPart(string address) => address[..address.LastIndexOf('@')].ToLowerInvariant();

    // The rule the SMTP session enforces: an address it would refuse is never handed to it.
    private static bool IsPlainAddress(string address) => ProbeSession.IsPlainAddress(address);
}
