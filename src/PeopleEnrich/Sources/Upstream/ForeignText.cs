using System.Text;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>Text that another server wrote, made fit for our logs: one short line, and never our key to it.</summary>
public static class ForeignText
{
    private const int MaxLength = 300;

    public static string Loggable(string text, string apiKey)
    {
        // The key goes before the cut, so that no part of it is left at the end of the line.
        var scrubbed = apiKey.Length == 0 ? text : text.Replace(apiKey, "[api key]", StringComparison.Ordinal);
        var line = new StringBuilder(Math.Min(scrubbed.Length, MaxLength));
        foreach (var c in scrubbed.Length > MaxLength ? scrubbed[..MaxLength] : scrubbed)
        {
            line.Append(char.IsControl(c) ? ' ' : c);
        }

        return line.ToString();
    }
}
