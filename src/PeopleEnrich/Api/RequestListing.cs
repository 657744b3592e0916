using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using PeopleEnrich.Api.Auth;
using PeopleEnrich.Pipeline.Batches;

namespace PeopleEnrich.Api;

/// <summary>GET /api/v2/people/enrich (an extension): the caller's requests, newest first, a page at a time.</summary>
public static class RequestListing
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static async Task<Results<Ok<ListEnrichPeopleOutputBody>, ApiProblem>> ListAsync(
        HttpContext http, BatchListing listing, CancellationToken cancellationToken)
    {
        var errors = new List<ErrorDetail>();
        var limit = ReadLimit(http.Request.Query, errors);
        var after = ReadCursor(http.Request.Query, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Unprocessable(errors);
        }

        var (page, more) = await listing.ListAsync(http.User.AccountId(), limit, after, cancellationToken);
        var requests = page.Select(b => new EnrichRequestSummary(
            b.Id, b.Status, b.ItemCount, b.DoneCount, DateTimeOffset.FromUnixTimeMilliseconds(b.CreatedAt))).ToList();
        return TypedResults.Ok(new ListEnrichPeopleOutputBody(requests, more ? Cursor(page[^1]) : null));
    }

    private static int ReadLimit(IQueryCollection query, List<ErrorDetail> errors)
    {
        if (!query.TryGetValue("limit", out var values))
        {
            return DefaultLimit;
        }

        var text = values.Count == 1 ? values[0] ?? "" : string.Join(",", values.ToArray());
        if (values.Count == 1 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxLimit)
        {
            return limit;
        }

        errors.Add(ErrorDetail.WithText("query.limit", $"must be a whole number from 1 to {MaxLimit}, given once", text));
        return DefaultLimit;
    }

    private static BatchPosition? ReadCursor(IQueryCollection query, List<ErrorDetail> errors)
    {
        if (!query.TryGetValue("cursor", out var values))
        {
            return null;
        }

        var text = values.Count == 1 ? values[0] ?? "" : string.Join(",", values.ToArray());
        if (values.Count == 1 && Position(text) is { } position)
        {
            return position;
        }

        errors.Add(ErrorDetail.WithText("query.cursor", "must be a next_cursor this endpoint answered, unchanged", text));
        return null;
    }

    // The cursor is opaque to clients: base64url of "created_at.id" of the page's last request.
    private static string Cursor(BatchSummary last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{last.CreatedAt}.{last.Id}")));

    private static BatchPosition? Position(string cursor)
    {
        if (cursor.Length is 0 or > 200 || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            return null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var parts = decoded.Split('.', 2);
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var createdAt)
            && Guid.TryParse(parts[1], out var id) && id.ToString() == parts[1]
            ? new BatchPosition(createdAt, parts[1])
            : null;
    }
}
