using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace PeopleEnrich.Spreadsheets;

/// <summary>One data row of a lead file: its fields as read, and its row number as a spreadsheet shows it (the header is row 1).</summary>
public sealed record LeadRow(int Number, IReadOnlyList<string> Fields)
{
    /// <summary>Its place among the data rows, from 0.</summary>
    public int Index => Number - 2;

    public string Field(int column) => column < Fields.Count ? Fields[column] : "";
}

/// <summary>
/// A CSV file of leads, read whole: UTF-8 with or without a byte order mark, its delimiter (comma,
/// semicolon or tab) sniffed from the header line, quoted fields with delimiters, quotes and line
/// breaks inside. <see cref="ContentHash"/> identifies the exact bytes, so that a second run over the
/// same file is recognised as the same work.
/// </summary>
public sealed class LeadFile
{
    private static readonly char[] Delimiters = [',', ';', '\t'];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private LeadFile(string name, char delimiter, bool hasByteOrderMark, IReadOnlyList<string> headers, IReadOnlyList<LeadRow> rows, byte[] contentHash)
    {
        Name = name;
        Delimiter = delimiter;
        HasByteOrderMark = hasByteOrderMark;
        Headers = headers;
        Rows = rows;
        ContentHash = contentHash;
    }

    /// <summary>How the file is called in messages: its path on the command line, its name in an upload.</summary>
    public string Name { get; }

    public char Delimiter { get; }

    public bool HasByteOrderMark { get; }

    public IReadOnlyList<string> Headers { get; }

    public IReadOnlyList<LeadRow> Rows { get; }

    /// <summary>SHA-256 of the file's bytes.</summary>
    public byte[] ContentHash { get; }

    /// <summary>The widest row or the header, whichever has more fields: the output keeps them all.</summary>
    public int Width => Math.Max(Headers.Count, Rows.Count == 0 ? 0 : Rows.Max(r => r.Fields.Count));

    public static string DescribeDelimiter(char delimiter) => delimiter switch
    {
        '\t' => "tab",
        ';' => "semicolon",
        _ => "comma",
    };

    /// <summary>Reads the file at <paramref name="path"/>; <see cref="LeadFileException"/> says in one line why it cannot.</summary>
    public static async Task<LeadFile> ReadAsync(string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new LeadFileException(exception is FileNotFoundException or DirectoryNotFoundException
                ? $"no file at {path}"
                : $"cannot read {path}: {exception.Message}");
        }

        return Read(bytes, path);
    }

    /// <summary>Reads a file already in memory, called <paramref name="name"/> in messages.</summary>
    public static LeadFile Read(byte[] bytes, string name)
    {
        var hasByteOrderMark = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble);
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes, hasByteOrderMark ? 3 : 0, bytes.Length - (hasByteOrderMark ? 3 : 0));
        }
        catch (DecoderFallbackException)
        {
            throw new LeadFileException($"{name} is not UTF-8 text: save it as \"CSV UTF-8\" and run again");
        }

        var delimiter = SniffDelimiter(text);
        var records = Parse(text, delimiter);
        if (records.Count == 0 || records[0].Fields.All(string.IsNullOrWhiteSpace))
        {
            throw new LeadFileException($"{name} has no header row (it is empty)");
        }

        var headers = records[0].Fields.Select(h => h.Trim()).ToList();
        var rows = records.Skip(1).ToList();
        return new LeadFile(name, delimiter, hasByteOrderMark, headers, rows, SHA256.HashData(bytes));
    }

    /// <summary>The candidate found most often in the header line, outside quotes; a comma when none is.</summary>
    internal static char SniffDelimiter(string text)
    {
        var counts = Delimiters.ToDictionary(d => d, _ => 0);
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && c is '\n' or '\r')
            {
                break;
            }
            else if (!quoted && counts.ContainsKey(c))
            {
                counts[c]++;
            }
        }

        var best = counts.MaxBy(pair => pair.Value);
        return best.Value > 0 ? best.Key : ',';
    }

    private static List<LeadRow> Parse(string text, char delimiter)
    {
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter.ToString(),
            HasHeaderRecord = false,
            BadDataFound = null,
            MissingFieldFound = null,
            IgnoreBlankLines = true,
            DetectColumnCountChanges = false,
        };
        using var parser = new CsvParser(new StringReader(text), configuration);
        var records = new List<LeadRow>();
        while (parser.Read())
        {
            // Spreadsheet numbering: the header is row 1, whatever line breaks quoted fields hold.
            records.Add(new LeadRow(records.Count + 1, parser.Record ?? []));
        }

        return records;
    }
}

/// <summary>A lead file that cannot be used, said in one line.</summary>
public sealed class LeadFileException(string message) : Exception(message);
