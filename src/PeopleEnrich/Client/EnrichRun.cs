using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PeopleEnrich.Spreadsheets;
using Spectre.Console;

namespace PeopleEnrich.Client;

/// <summary>What the user asked for on the command line, paths already made absolute.</summary>
internal sealed record EnrichSettings(string Input, string Output, Uri Server, string? Key, bool Emails, bool Phones, bool DryRun, int Parallel);

/// <summary>
/// One run of 'enrich': read the file, send the rows that can be sent in batches of 100 (several in
/// flight), wait for each batch's answers, write the enriched file and a summary. Each batch goes
/// under an Idempotency-Key made of the file's content, the fields asked and the batch's position,
/// so running the same command again (after Ctrl-C, a crash, a lost connection) finds the batches
/// already submitted instead of submitting and charging them again.
/// </summary>
internal sealed class EnrichRun(EnrichSettings settings, TimeProvider time)
{
    /// <summary>The contract's most people per batch.</summary>
    public const int ChunkSize = 100;

    // The published prices (the contract's POST description): reserved per person asked, charged only when found.
    public const int EmailPrice = 1;
    public const int PhonePrice = 10;

    // Bump when what is sent for the same file changes, so a new version never reuses an older one's keys.
    private const string KeyVersion = "csv1";

    private const string CreditsRanOutReason = "not sent: not enough credits left on the account";

    private static readonly IReadOnlyList<string> Deliverable = ["DELIVERABLE", "HIGH_PROBABILITY"];

    private int PricePerRow => (settings.Emails ? EmailPrice : 0) + (settings.Phones ? PhonePrice : 0);

    private IReadOnlyList<string> Fields => [.. settings.Emails ? ["contact.emails"] : Array.Empty<string>(), .. settings.Phones ? ["contact.phones"] : Array.Empty<string>()];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var file = await LeadFile.ReadAsync(settings.Input, cancellationToken);
        var columns = LeadColumns.Recognise(file.Headers);
        if (columns.MissingRequired.Count > 0)
        {
            throw new LeadFileException(
                $"{settings.Input} has no column for {string.Join(", ", columns.MissingRequired.Select(LeadColumns.Describe))}; " +
                $"headers seen: {string.Join(", ", file.Headers.Select(h => $"\"{h}\""))} (the README lists the headers recognised)");
        }

        var (leads, skipped) = Leads.Read(file, columns);
        if (settings.DryRun)
        {
            WritePlan(file, columns, leads, skipped);
            WriteSkipped(skipped);
            Console.WriteLine("Dry run: nothing was sent.");
            return 0;
        }

        if (string.IsNullOrWhiteSpace(settings.Key))
        {
            throw new EnrichApiException($"no API key: pass --key KEY or set {EnrichCommand.KeyVariable}");
        }

        if (Path.GetDirectoryName(settings.Output) is { } folder && !Directory.Exists(folder))
        {
            throw new LeadFileException($"no folder {folder} to write {Path.GetFileName(settings.Output)} in");
        }

        using var http = new HttpClient { BaseAddress = settings.Server, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", settings.Key.Trim());
        http.DefaultRequestHeaders.UserAgent.ParseAdd("PeopleEnrich-enrich/2.0");
        IRunProgress? progress = null;
        var api = new EnrichApi(http, time, wait => progress?.RateLimited(wait));

        var before = await api.CreditsAsync(retry: false, cancellationToken);
        WritePlan(file, columns, leads, skipped);
        var most = (long)leads.Count * PricePerRow;
        if (most > before.RemainingCredits)
        {
            Console.WriteLine($"Warning: {before.RemainingCredits} credits left and these rows can reserve up to {most}: batches the account cannot cover are left unsent.");
        }

        var outcomes = new RowAnswer?[file.Rows.Count];
        foreach (var row in skipped)
        {
            outcomes[row.Row.Index] = RowAnswer.NotSent(row.Reason);
        }

        var batches = new BatchesRun(this, api, leads, outcomes, file.ContentHash);
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await BarProgress.RunAsync(leads.Count, async bar => await batches.RunAsync(progress = bar, cancellationToken));
        }
        else
        {
            await batches.RunAsync(progress = new LineProgress(Console.Out), cancellationToken);
        }

        var finished = outcomes.Select(o => o ?? RowAnswer.NotSent(CreditsRanOutReason)).ToList();
        await EnrichedFile.WriteAsync(settings.Output, file, finished, cancellationToken);
        var after = await api.CreditsAsync(retry: true, cancellationToken);
        WriteSummary(finished, after.UsedCredits - before.UsedCredits, after.RemainingCredits);
        Console.WriteLine($"Wrote {settings.Output}");
        if (batches.CreditsRanOut)
        {
            throw new EnrichApiException($"not enough credits: {Rows(finished.Count(o => o.Error == CreditsRanOutReason))} not sent; add credits and run the same command again (nothing is charged twice)");
        }

        return 0;
    }

    private void WritePlan(LeadFile file, LeadColumns columns, IReadOnlyList<Lead> leads, IReadOnlyList<SkippedRow> skipped)
    {
        Console.WriteLine($"{settings.Input}: {Rows(file.Rows.Count)}, {LeadFile.DescribeDelimiter(file.Delimiter)}-separated, UTF-8{(file.HasByteOrderMark ? " with BOM" : "")}.");
        Console.WriteLine("Columns:");
        foreach (var field in Enum.GetValues<LeadField>())
        {
            var used = columns.Of(field);
            var text = used.Count == 0 ? "(none)" : string.Join(", then ", used.Select(c => $"\"{file.Headers[c]}\""));
            Console.WriteLine($"  {LeadColumns.Describe(field),-11} <- {text}");
        }

        if (columns.Unused.Any())
        {
            Console.WriteLine($"  not used (copied as they are): {string.Join(", ", columns.Unused.Select(c => $"\"{file.Headers[c]}\""))}");
        }

        var asked = string.Join(" and ", Fields.Select(f => f["contact.".Length..]));
        Console.WriteLine($"{Rows(leads.Count)} to send asking for {asked}; {Rows(skipped.Count)} cannot be sent.");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"At most {(long)leads.Count * PricePerRow} credits ({PricePerRow} per row: {EmailPrice} for emails, {PhonePrice} for phones, charged only when found)."));
    }

    private static string Rows(int count) => count == 1 ? "1 row" : $"{count} rows";

    private static void WriteSkipped(IReadOnlyList<SkippedRow> skipped)
    {
        const int Shown = 50;
        if (skipped.Count > 0)
        {
            Console.WriteLine("Rows that cannot be sent:");
        }

        foreach (var row in skipped.Take(Shown))
        {
            Console.WriteLine($"  row {row.Row.Number}: {row.Reason}");
        }

        if (skipped.Count > Shown)
        {
            Console.WriteLine($"  … and {skipped.Count - Shown} more");
        }
    }

    private static void WriteSummary(IReadOnlyList<RowAnswer> outcomes, long usedThisRun, long remaining)
    {
        var answered = outcomes.Where(o => o.WasSent).ToList();
        var table = new Table().AddColumns("", "rows").HideHeaders();
        table.AddRow("rows", $"{outcomes.Count}");
        table.AddRow("sent", $"{answered.Count}");
        table.AddRow("skipped", $"{outcomes.Count - answered.Count}");
        table.AddRow("failed", $"{answered.Count(o => o.Status == "FAILED")}");
        foreach (var status in answered.Select(o => o.EmailStatus).OfType<string>().Distinct().Order(StringComparer.Ordinal))
        {
            table.AddRow($"email {status}", $"{answered.Count(o => o.EmailStatus == status)}");
        }

        table.AddRow("no email", $"{answered.Count(o => o.EmailStatus is null)}");
        table.AddRow("phones", $"{answered.Count(o => o.Phones.Count > 0)}");
        var charged = answered.Count(o => Deliverable.Contains(o.EmailStatus)) * EmailPrice + answered.Count(o => o.Phones.Count > 0) * PhonePrice;
        table.AddRow("credits for these rows", $"{charged}");
        table.AddRow("credits used by this run", $"{usedThisRun}");
        table.AddRow("credits left", $"{remaining}");
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200;
        }

        AnsiConsole.Write(table);
    }

    private string KeyFor(byte[] contentHash, int chunk, IReadOnlyCollection<int> refused)
    {
        var tag = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{KeyVersion}|{Convert.ToHexString(contentHash)}|{string.Join(',', Fields)}")))[..32];
        var key = $"{KeyVersion}-{tag}-{chunk}";
        return refused.Count == 0
            ? key
            : $"{key}-less-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(',', refused))))[..12]}";
    }

    /// <summary>The batches of one run, several in flight; the first failure stops the others.</summary>
    private sealed class BatchesRun(EnrichRun run, EnrichApi api, IReadOnlyList<Lead> leads, RowAnswer?[] outcomes, byte[] contentHash)
    {
        private readonly Lock _gate = new();
        private int _rowsDone;
        private int _emails;
        private int _phones;
        private int _chunksDone;
        private volatile bool _creditsRanOut;

        public bool CreditsRanOut => _creditsRanOut;

        public async Task RunAsync(IRunProgress progress, CancellationToken cancellationToken)
        {
            var chunks = leads.Chunk(ChunkSize).ToList();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var inFlight = new SemaphoreSlim(run.Parallel);
            var tasks = chunks.Select(async (chunk, index) =>
            {
                await inFlight.WaitAsync(stop.Token);
                try
                {
                    if (!_creditsRanOut)
                    {
                        await SendAsync(index, chunk, progress, chunks.Count, stop.Token);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    await stop.CancelAsync();
                    throw;
                }
                finally
                {
                    inFlight.Release();
                }
            }).ToList();
            try
            {
                await Task.WhenAll(tasks);
            }
            catch (OperationCanceledException) when (tasks.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException) is { } cause)
            {
                throw cause;
            }
        }

        private async Task SendAsync(int index, Lead[] chunk, IRunProgress progress, int chunks, CancellationToken cancellationToken)
        {
            var sending = chunk.ToList();
            var refused = new SortedSet<int>();
            while (sending.Count > 0)
            {
                var body = new SubmitBody(sending.Select(lead => new PersonToEnrich(lead.FirstName, lead.LastName, lead.Domain, lead.Company, lead.LinkedInUrl,
                    run.Fields, new Dictionary<string, string> { ["csv_row"] = lead.Row.Number.ToString(CultureInfo.InvariantCulture) })).ToList());
                switch (await api.SubmitAsync(body, run.KeyFor(contentHash, index, refused), cancellationToken))
                {
                    case SubmitOutcome.Accepted accepted:
                        var batch = await api.WaitForResultAsync(accepted.RequestId, cancellationToken);
                        if (batch.Results is not { } results || results.Count != sending.Count)
                        {
                            throw new EnrichApiException($"the server answered request {accepted.RequestId} with {batch.Results?.Count ?? 0} results for {sending.Count} people");
                        }

                        Record(sending, results, chunk.Length, progress, chunks);
                        return;
                    case SubmitOutcome.RefusedItems refusal:
                        foreach (var (position, reason) in refusal.Reasons)
                        {
                            if (position < 0 || position >= sending.Count)
                            {
                                throw new EnrichApiException($"the server refused item {position} of a batch of {sending.Count}");
                            }

                            outcomes[sending[position].Row.Index] = RowAnswer.NotSent(reason);
                            refused.Add(sending[position].Row.Number);
                        }

                        sending = sending.Where((_, position) => !refusal.Reasons.ContainsKey(position)).ToList();
                        break;
                    case SubmitOutcome.NotEnoughCredits:
                        _creditsRanOut = true;
                        return;
                }
            }
        }

        private void Record(List<Lead> sent, IReadOnlyList<ItemAnswer> results, int rowsOfChunk, IRunProgress progress, int chunks)
        {
            lock (_gate)
            {
                for (var i = 0; i < sent.Count; i++)
                {
                    var outcome = EnrichedFile.Answered(results[i]);
                    outcomes[sent[i].Row.Index] = outcome;
                    _emails += outcome.MostProbableEmail is null ? 0 : 1;
                    _phones += outcome.Phones.Count > 0 ? 1 : 0;
                }

                // Rows the server refused are done too: they are in the output, as SKIPPED.
                _rowsDone += rowsOfChunk;
                _chunksDone++;
                progress.ChunkDone(_rowsDone, _emails, _phones, _chunksDone, chunks);
            }
        }
    }

    private int Parallel => settings.Parallel;
}
