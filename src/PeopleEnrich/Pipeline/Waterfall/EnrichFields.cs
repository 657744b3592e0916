namespace PeopleEnrich.Pipeline.Waterfall;

[Flags]
public enum EnrichFields
{
    None = 0,
    Emails = 1,
    Phones = 2,
}

public static class EnrichFieldNames
{
    public const string Emails = "contact.emails";
    public const string Phones = "contact.phones";

    public static EnrichFields? Parse(string value) => value switch
    {
        Emails => EnrichFields.Emails,
        Phones => EnrichFields.Phones,
        _ => null,
    };

    /// <summary>The contract's enrichment_type: the asked fields in canonical order.</summary>
    public static string Canonical(EnrichFields fields) => fields switch
    {
        EnrichFields.Emails => Emails,
        EnrichFields.Phones => Phones,
        EnrichFields.Emails | EnrichFields.Phones => Emails + "," + Phones,
        _ => throw new ArgumentOutOfRangeException(nameof(fields), fields, "At least one field is asked for."),
    };
}

/// <summary>The price list of the contract: 1 credit per email asked, 10 per phone.</summary>
public static class CreditCost
{
    public const long Email = 1;
    public const long Phone = 10;

    public static long For(EnrichFields fields) =>
        (fields.HasFlag(EnrichFields.Emails) ? Email : 0) + (fields.HasFlag(EnrichFields.Phones) ? Phone : 0);
}
