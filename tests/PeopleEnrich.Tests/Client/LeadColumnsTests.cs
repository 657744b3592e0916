using PeopleEnrich.Spreadsheets;

namespace PeopleEnrich.Tests.Client;

/// <summary>How the command line reads a lead file's headers, delimiter and domains (no server needed).</summary>
public sealed class LeadColumnsTests
{
    [Theory]
    [InlineData("First Name", LeadField.FirstName)]
    [InlineData("first_name", LeadField.FirstName)]
    [InlineData("FIRSTNAME", LeadField.FirstName)]
    [InlineData("Given name", LeadField.FirstName)]
    [InlineData("Prénom", LeadField.FirstName)]
    [InlineData("Vorname", LeadField.FirstName)]
    [InlineData("Nombre", LeadField.FirstName)]
    [InlineData("Last-Name", LeadField.LastName)]
    [InlineData("Surname", LeadField.LastName)]
    [InlineData("Family name", LeadField.LastName)]
    [InlineData("Nom", LeadField.LastName)]
    [InlineData("Nachname", LeadField.LastName)]
    [InlineData("Apellido", LeadField.LastName)]
    [InlineData("Company Domain", LeadField.Domain)]
    [InlineData(" website ", LeadField.Domain)]
    [InlineData("Company website", LeadField.Domain)]
    [InlineData("URL", LeadField.Domain)]
    [InlineData("Organization", LeadField.Company)]
    [InlineData("Société", LeadField.Company)]
    [InlineData("Firma", LeadField.Company)]
    [InlineData("Empresa", LeadField.Company)]
    [InlineData("LinkedIn URL", LeadField.LinkedIn)]
    [InlineData("linkedin profile", LeadField.LinkedIn)]
    public void A_header_in_a_usual_spelling_or_language_is_recognised(string header, LeadField field)
    {
        var columns = LeadColumns.Recognise(["notes", header]);

        Assert.Equal([1], columns.Of(field));
        Assert.Equal([0], columns.Unused);
    }

    [Fact]
    public void Several_columns_of_one_field_are_kept_best_first_whatever_their_order_in_the_file()
    {
        var columns = LeadColumns.Recognise(["URL", "Website", "Domain", "Name", "Email"]);

        Assert.Equal([2, 1, 0], columns.Of(LeadField.Domain));
        Assert.Equal([LeadField.FirstName, LeadField.LastName], columns.MissingRequired);
    }

    [Theory]
    [InlineData("a;b;c,d\n1;2;3", ';')]
    [InlineData("\"a;b\",c,d\n", ',')]
    [InlineData("a\tb\tc;d\n", '\t')]
    [InlineData("single\n", ',')]
    public void The_delimiter_is_the_one_the_header_line_uses_most_outside_quotes(string text, char delimiter) =>
        Assert.Equal(delimiter, LeadFile.SniffDelimiter(text));

    [Theory]
    [InlineData("acme.com", "acme.com")]
    [InlineData("https://www.Acme.com/about?x=1", "acme.com")]
    [InlineData("WWW.acme.co.uk.", "acme.co.uk")]
    [InlineData("acme.com:8443", "acme.com")]
    [InlineData("jane@acme.com", "acme.com")]
    [InlineData("müller-gmbh.de", "xn--mller-gmbh-9db.de")]
    [InlineData("localhost", null)]
    [InlineData("10.0.0.1", null)]
    [InlineData("http://[::1]/", null)]
    [InlineData("acme corp", null)]
    public void A_domain_cell_gives_its_host_name_or_nothing(string cell, string? domain) =>
        Assert.Equal(domain, Leads.DomainOf(cell));
}
