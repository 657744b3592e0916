namespace PeopleEnrich.Vocabulary;

/// <summary>Who is being looked for, as submitted and normalised (the domain lower-case, without scheme or www.).</summary>
public sealed record Person(string FirstName, string LastName, string Domain, string? CompanyName, string? LinkedInUrl);
