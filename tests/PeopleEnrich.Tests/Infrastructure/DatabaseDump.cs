using System.Globalization;
using System.Text;
using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// Tables read back as they are stored, through the app's own <see cref="Database"/> (SQLite or
/// PostgreSQL alike): to see that something changed nothing, or what exactly a column holds.
/// </summary>
public static class DatabaseDump
{
    /// <summary>The rows of <paramref name="tables"/>, every column, ordered by the first: equal dumps mean equal data.</summary>
    public static async Task<string> TablesAsync(Database database, params string[] tables)
    {
        var dump = new StringBuilder();
        foreach (var table in tables)
        {
            dump.Append("== ").AppendLine(table);
            foreach (var row in await RowsAsync(database, $"SELECT * FROM {table} ORDER BY 1"))
            {
                dump.AppendLine(string.Join(" | ", row.Select(c => $"{c.Key}={Text(c.Value)}")));
            }
        }

        return dump.ToString();
    }

    /// <summary>The rows of a query (Dapper parameters: <c>new { id }</c> for <c>@id</c>), each as its columns by name; NULL is null.</summary>
    public static async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> RowsAsync(Database database, string sql, object? parameters = null)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var rows = await connection.QueryAsync(sql, parameters);
        return rows.Select(row => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>((IDictionary<string, object?>)row, StringComparer.Ordinal)).ToList();
    }

    private static string Text(object? value) => value switch
    {
        null => "NULL",
        byte[] bytes => "0x" + Convert.ToHexString(bytes),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
