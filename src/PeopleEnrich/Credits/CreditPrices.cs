using PeopleEnrich.Answers;

namespace PeopleEnrich.Credits;

/// <summary>The price list of the contract: 1 credit per email asked, 10 per phone; only what was found is charged.</summary>
public static class CreditPrices
{
    public const long Email = 1;
    public const long Phone = 10;

    /// <summary>What asking for these fields reserves: the most it can cost.</summary>
    public static long For(EnrichFields fields) =>
        (fields.HasFlag(EnrichFields.Emails) ? Email : 0) + (fields.HasFlag(EnrichFields.Phones) ? Phone : 0);

    /// <summary>The charge for an answer: the asked fields it found (an address we stand behind, any number).</summary>
    public static long ChargeFor(this EnrichmentOutcome outcome, EnrichFields asked) => For(asked & outcome.Found);
}
