using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PeopleEnrich.Pipeline.Workers;

/// <summary>
/// The name a process's leases carry, the same across its restarts, so that a process that starts again takes its
/// previous life's items back at once instead of waiting for their leases to run out. <c>Workers:Id</c> when set;
/// otherwise the machine's name and a random value kept in a file of <c>Workers:IdFolder</c>. The file is held locked
/// while the process lives, and the lock dies with it: a second process started from the same folder cannot take the
/// name of a live one (it takes the next file and a name of its own), and a restart after a crash gets the first free one.
/// </summary>
public sealed class WorkerIdentity : IDisposable
{
    private const int MaxSlots = 256;
    private readonly FileStream? _held;

    private WorkerIdentity(string id, FileStream? held, string? path)
    {
        Id = id;
        _held = held;
        Path = path;
    }

    public string Id { get; }

    /// <summary>The file the name is kept in; null when set by configuration or when no file could be kept.</summary>
    public string? Path { get; }

    public static WorkerIdentity From(IOptions<WorkerOptions> options, ILogger<WorkerIdentity> logger)
    {
        var settings = options.Value;
        if (!string.IsNullOrWhiteSpace(settings.Id))
        {
            return new WorkerIdentity(settings.Id.Trim(), null, null);
        }

        try
        {
            var folder = Directory.CreateDirectory(settings.IdFolder).FullName;
            for (var slot = 1; slot <= MaxSlots; slot++)
            {
                var path = System.IO.Path.Combine(folder, $"worker-{slot}.id");
                if (TryHold(path) is { } held)
                {
                    return new WorkerIdentity(ReadOrWrite(held), held, path);
                }
            }

            logger.LogWarning("All {Slots} worker names in {Folder} are held by running processes", MaxSlots, folder);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not keep the worker's name in {Folder} ({Reason}); a restart will wait for this run's leases to run out",
                settings.IdFolder, exception.Message);
        }

        return new WorkerIdentity(NewId(), null, null);
    }

    public void Dispose() => _held?.Dispose();

    /// <summary>The file, locked for this process alone (an advisory lock on Unix, which the kernel drops when the process dies); null when another holds it.</summary>
    private static FileStream? TryHold(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    private static string ReadOrWrite(FileStream held)
    {
        using var reader = new StreamReader(held, Encoding.UTF8, leaveOpen: true);
        var kept = reader.ReadToEnd().Trim();
        if (kept.Length > 0)
        {
            return kept;
        }

        var id = NewId();
        held.SetLength(0);
        held.Write(Encoding.UTF8.GetBytes(id + "\n"));
        held.Flush(flushToDisk: true);
        return id;
    }

    private static string NewId() => $"{Environment.MachineName}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
}
