namespace PeopleEnrich.Answers;

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
