using System.Diagnostics;
using System.Globalization;

namespace PeopleEnrich.Testing;

/// <summary>
/// CPU time spent by processes (user + system), the measure of work that does not depend on how busy the machine is:
/// a run on a shared machine takes longer, but costs the same CPU seconds.
/// </summary>
public static class CpuTime
{
    // Linux's USER_HZ, the unit of /proc/<pid>/stat times, is 100 on every architecture .NET runs on.
    private const double TicksPerSecond = 100;

    /// <summary>A process's CPU time so far; null when it is gone.</summary>
    public static TimeSpan? Of(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.TotalProcessorTime;
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The CPU time of the PostgreSQL server listening on <paramref name="port"/>: its postmaster, with the children it
    /// already reaped (connections closed), and its living children (backends, writers); null when not readable (not Linux).
    /// </summary>
    public static TimeSpan? OfPostgres(int port)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var stats = new List<(int Pid, int Parent, string Command, double Seconds)>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } stat)
            {
                stats.Add(stat);
            }
        }

        var postmaster = stats.Where(s => s.Command == "postgres" && CommandLine(s.Pid).Contains($" -p {port} ", StringComparison.Ordinal))
            .Select(s => (int?)s.Pid).FirstOrDefault();
        return postmaster is { } root
            ? TimeSpan.FromSeconds(stats.Where(s => s.Pid == root || s.Parent == root).Sum(s => s.Seconds))
            : null;
    }

    /// <summary>utime + stime (+ cutime + cstime: children reaped) of /proc/<paramref name="pid"/>/stat.</summary>
    private static (int Pid, int Parent, string Command, double Seconds)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var open = text.IndexOf('(', StringComparison.Ordinal);
            var close = text.LastIndexOf(')');
            var fields = text[(close + 2)..].Split(' ');
            // After "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17), counted from the state at 3.
            var ticks = Enumerable.Range(11, 4).Sum(i => double.Parse(fields[i], CultureInfo.InvariantCulture));
            return (pid, int.Parse(fields[1], CultureInfo.InvariantCulture), text[(open + 1)..close], ticks / TicksPerSecond);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ') + " ";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
