namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>The tables admin commands print (Spectre.Console), read back.</summary>
public static class ConsoleTable
{
    /// <summary>A table row's cells, trimmed (Spectre draws the borders with │).</summary>
    public static string[] Cells(string row) => row.Split('│').Skip(1).SkipLast(1).Select(c => c.Trim()).ToArray();
}
