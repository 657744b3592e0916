using System.Globalization;
using Spectre.Console;

namespace PeopleEnrich.Client;

/// <summary>How far a run is: rows done of the rows to send, and what was found so far.</summary>
internal interface IRunProgress
{
    void ChunkDone(int rowsDone, int emailsFound, int phonesFound, int chunksDone, int chunks);

    void RateLimited(TimeSpan wait);
}

/// <summary>On a terminal: a live progress bar (rows done, found so far, time left).</summary>
internal sealed class BarProgress(ProgressTask task, int total) : IRunProgress
{
    private readonly Lock _gate = new();
    private string _found = "";

    public static Task RunAsync(int total, Func<IRunProgress, Task> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Description(0, total, ""), maxValue: Math.Max(total, 1));
                await work(new BarProgress(task, total));
                task.Value = task.MaxValue;
            });

    public void ChunkDone(int rowsDone, int emailsFound, int phonesFound, int chunksDone, int chunks)
    {
        lock (_gate)
        {
            _found = string.Create(CultureInfo.InvariantCulture, $" · {emailsFound:N0} emails, {phonesFound:N0} phones found");
            task.Value = rowsDone;
            task.Description = Description(rowsDone, total, _found);
        }
    }

    public void RateLimited(TimeSpan wait)
    {
        lock (_gate)
        {
            task.Description = Description((int)task.Value, total, _found) + Markup.Escape($" · rate limited, waiting {wait.TotalSeconds:0.#} s");
        }
    }

    private static string Description(int done, int total, string found) =>
        Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{done:N0}/{total:N0} rows{found}"));
}

/// <summary>Without a terminal (a log, a pipe): one line per finished chunk and per rate-limit pause.</summary>
internal sealed class LineProgress(TextWriter output) : IRunProgress
{
    private readonly Lock _gate = new();

    public void ChunkDone(int rowsDone, int emailsFound, int phonesFound, int chunksDone, int chunks)
    {
        lock (_gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Chunk {chunksDone}/{chunks} done: {rowsDone} rows enriched, {emailsFound} emails and {phonesFound} phones found so far."));
        }
    }

    public void RateLimited(TimeSpan wait)
    {
        lock (_gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Rate limited by the server (429): waiting {wait.TotalSeconds:0.#} s as it asks."));
        }
    }
}
