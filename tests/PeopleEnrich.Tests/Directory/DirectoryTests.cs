using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

// Not "…Tests.Directory": a namespace of that name would hide System.IO.Directory from every test namespace.
namespace PeopleEnrich.Tests.ContactDirectory;

/// <summary>
/// The known-contacts directory: imported from CSV with 'directory import' (the program, as a child
/// process, on the running server's database) or with the server's own importer, and found again
/// through the API. Every test uses domains of its own: the directory is shared within one app.
/// </summary>
public abstract class DirectoryTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task Import_reports_rows_by_outcome_and_skipped_lines_with_their_reasons_and_a_second_import_changes_nothing()
    {
        var t = Tag();
        var csv = $"""
            Phone,LASTNAME,FirstName,Email,Domain,Company_Name,LinkedIn_URL,REGION
            +1 202 555 0143,Hopper,Grace,grace@navy-{t}.org,navy-{t}.org,US Navy,https://www.linkedin.com/in/Grace-Hopper-{t}/,
            06 12 34 56 78,Curie,Marie,,sorbonne-{t}.fr,,,
            020 7946 0018,Turing,Alan,,bletchley-{t}.co.uk,,,
            12345,Phone,Bad,bad@broken-{t}.fr,broken-{t}.fr,,,
            ,Nobody,,nobody@nameless-{t}.com,nameless-{t}.com,,,
            ,Contact,Empty,,empty-{t}.com,,,
            """;

        var first = await ImportWithProgramAsync(csv);

        Assert.Equal("Rows read: 6; imported: 4; updated: 0; unchanged: 0; skipped: 2.", first.OutputLines[0]);
        Assert.Equal("  skipped line 6: needs firstname, lastname and domain, or linkedin_url", first.OutputLines[1]);
        Assert.Equal("  skipped line 7: has no usable email or phone", first.OutputLines[2]);
        // The bad number is reported with its line and left out; the rest of its row (the address) is imported.
        Assert.StartsWith("  line 5: phone '12345' ", first.OutputLines[3]);
        Assert.EndsWith("; ignored", first.OutputLines[3]);
        Assert.Equal(4, first.OutputLines.Count);
        var account = await App.CreateAccountAsync();
        var bad = Assert.Single(await account.EnrichAsync(Query("Bad", "Phone", $"broken-{t}.fr")));
        Assert.Equal([($"bad@broken-{t}.fr", "UNKNOWN")], EmailsOf(bad));
        Assert.Empty(PhonesOf(bad));

        // Again: nothing to do, and nothing touched (not even the update times).
        var before = await DirectoryRowsAsync();
        var second = await ImportWithProgramAsync(csv);
        Assert.Equal("Rows read: 6; imported: 0; updated: 0; unchanged: 4; skipped: 2.", second.OutputLines[0]);
        Assert.Equal(before, await DirectoryRowsAsync());

        // One changed phone number: one row updated, in place.
        var third = await ImportWithProgramAsync(csv.Replace("+1 202 555 0143", "+1 202 555 0199", StringComparison.Ordinal));
        Assert.Equal("Rows read: 6; imported: 0; updated: 1; unchanged: 3; skipped: 2.", third.OutputLines[0]);
        var grace = Assert.Single(await account.EnrichAsync(Query("Grace", "Hopper", $"navy-{t}.org")));
        Assert.Equal([("+12025550199", "US")], PhonesOf(grace));
    }

    [Fact]
    public async Task A_new_number_for_a_person_without_an_address_replaces_the_old_one()
    {
        var t = Tag();
        const string header = "firstname,lastname,domain,phone\n";
        Assert.Equal("Rows read: 1; imported: 1; updated: 0; unchanged: 0; skipped: 0.",
            (await ImportWithProgramAsync(header + $"Marie,Curie,sorbonne-{t}.fr,06 12 34 56 78\n")).OutputLines[0]);
        Assert.Equal("Rows read: 1; imported: 0; updated: 1; unchanged: 0; skipped: 0.",
            (await ImportWithProgramAsync(header + $"Marie,Curie,sorbonne-{t}.fr,06 12 34 56 79\n")).OutputLines[0]);

        var marie = Assert.Single(await (await App.CreateAccountAsync()).EnrichAsync(Query("Marie", "Curie", $"sorbonne-{t}.fr", fields: Phones)));
        Assert.Equal([("+33612345679", "FR")], PhonesOf(marie));
    }

    [Fact]
    public async Task Phones_are_stored_in_E164_with_their_region_read_from_the_number_the_domain_or_the_region_column()
    {
        var t = Tag();
        var csv = $"""
            firstname,lastname,domain,phone,region
            Grace,Hopper,navy-{t}.org,+1 202 555 0143,
            Marie,Curie,sorbonne-{t}.fr,06 12 34 56 78,
            Alan,Turing,bletchley-{t}.co.uk,020 7946 0018,
            Ada,Lovelace,engines-{t}.co.uk,06 12 34 56 78,FR
            Rosalind,Franklin,kings-{t}.fr,020 7946 0018,gb
            """;
        Assert.Equal("Rows read: 5; imported: 5; updated: 0; unchanged: 0; skipped: 0.", (await ImportWithProgramAsync(csv)).OutputLines[0]);

        var results = await (await App.CreateAccountAsync()).EnrichAsync(
            Query("Grace", "Hopper", $"navy-{t}.org", fields: Phones),
            Query("Marie", "Curie", $"sorbonne-{t}.fr", fields: Phones),
            Query("Alan", "Turing", $"bletchley-{t}.co.uk", fields: Phones),
            Query("Ada", "Lovelace", $"engines-{t}.co.uk", fields: Phones),
            Query("Rosalind", "Franklin", $"kings-{t}.fr", fields: Phones));

        Assert.Equal([("+12025550143", "US")], PhonesOf(results[0]));
        Assert.Equal([("+33612345678", "FR")], PhonesOf(results[1])); // national number, read in the .fr domain's region
        Assert.Equal([("+442079460018", "GB")], PhonesOf(results[2])); // .co.uk is GB
        Assert.Equal([("+33612345678", "FR")], PhonesOf(results[3])); // the region column wins over the .co.uk domain
        Assert.Equal([("+442079460018", "GB")], PhonesOf(results[4])); // and over the .fr domain, in any case
        foreach (var result in results)
        {
            var phone = Assert.Single(result["phones"]!.AsArray());
            Assert.Equal(["number", "region"], phone!.AsObject().Select(p => p.Key).Order());
            Assert.Null(result["emails"]); // not asked for
        }
    }

    [Fact]
    public async Task Names_and_domains_match_whatever_their_case_accents_surrounding_spaces_or_URL_form()
    {
        var t = Tag();
        var report = await ImportWithServerAsync($"""
            FirstName,LastName,Domain,Email,Phone
            Grace,Hopper,navy-{t}.org,grace.hopper@navy-{t}.org,+1 202 555 0143
            Zoë,Zeller,zeller-{t}.com,zoe@zeller-{t}.com,
            José,Jiménez,jimenez-{t}.com,jose@jimenez-{t}.com,
            """);
        Assert.Equal(3, report.Imported);

        var results = await (await App.CreateAccountAsync()).EnrichAsync(
            Query("GRACE", "hopper", $"https://www.Navy-{t.ToUpperInvariant()}.org/"),
            Query("Zoe", "Zeller", $"zeller-{t}.com"),
            Query("JOSE", "JIMENEZ", $"jimenez-{t}.com"),
            Query("  Grace ", " Hopper  ", $"  navy-{t}.org "),
            Query("Grace", "Hopper", $"army-{t}.org"),
            Query("Grace", "Hoppers", $"navy-{t}.org"));

        Assert.Equal([($"grace.hopper@navy-{t}.org", "UNKNOWN")], EmailsOf(results[0]));
        Assert.Equal($"grace.hopper@navy-{t}.org", results[0]["most_probable_email"]!.GetValue<string>());
        Assert.Equal([("+12025550143", "US")], PhonesOf(results[0]));
        Assert.Equal([($"zoe@zeller-{t}.com", "UNKNOWN")], EmailsOf(results[1]));
        Assert.Equal([($"jose@jimenez-{t}.com", "UNKNOWN")], EmailsOf(results[2]));
        Assert.Equal([($"grace.hopper@navy-{t}.org", "UNKNOWN")], EmailsOf(results[3]));
        // Not the same person: another domain, another name.
        Assert.Empty(EmailsOf(results[4]));
        Assert.Empty(PhonesOf(results[4]));
        Assert.Empty(EmailsOf(results[5]));

        var email = Assert.Single(results[0]["emails"]!.AsArray());
        Assert.Equal(["email", "status"], email!.AsObject().Select(p => p.Key).Order());
    }

    [Fact]
    public async Task A_LinkedIn_profile_is_matched_first_whatever_the_URL_form_and_the_name()
    {
        var t = Tag();
        await ImportWithProgramAsync($"""
            firstname,lastname,domain,email,linkedin_url
            Grace,Hopper,navy-{t}.org,grace@navy-{t}.org,https://www.linkedin.com/in/Grace-Hopper-{t}/
            Other,Person,navy-{t}.org,other@navy-{t}.org,
            """);

        var results = await (await App.CreateAccountAsync()).EnrichAsync(
            Query("Someone", "Else", $"elsewhere-{t}.com", $"linkedin.com/in/grace-hopper-{t}?trk=x", Emails),
            Query("Other", "Person", $"navy-{t}.org", $"HTTP://LinkedIn.com/in/GRACE-HOPPER-{t}", Emails),
            Query("Other", "Person", $"navy-{t}.org", $"https://www.linkedin.com/in/nobody-{t}/", Emails),
            Query("Someone", "Else", $"elsewhere-{t}.com", $"https://www.linkedin.com/in/grace-hopper-{t}-2/", Emails));

        Assert.Equal([($"grace@navy-{t}.org", "UNKNOWN")], EmailsOf(results[0]));
        Assert.Equal([($"grace@navy-{t}.org", "UNKNOWN")], EmailsOf(results[1])); // the profile, not the name
        Assert.Equal([($"other@navy-{t}.org", "UNKNOWN")], EmailsOf(results[2])); // an unknown profile: the name
        Assert.Empty(EmailsOf(results[3])); // another profile
    }

    [Fact]
    public async Task The_server_importer_reads_columns_in_any_order_and_case_like_the_command()
    {
        var t = Tag();
        var csv = $"""
            REGION,linkedin_URL,email,Domain,lastName,FIRSTNAME,company_name,phone
            ,,ada@engines-{t}.com,engines-{t}.com,Lovelace,Ada,Analytical Engines,
            GB,,,engines-{t}.com,Babbage,Charles,,020 7946 0018
            """;

        var report = await ImportWithServerAsync(csv);
        Assert.Equal((2, 2, 0, 0, 0), (report.RowsRead, report.Imported, report.Updated, report.Unchanged, report.SkippedCount));
        Assert.Equal("Rows read: 2; imported: 0; updated: 0; unchanged: 2; skipped: 0.", (await ImportWithProgramAsync(csv)).OutputLines[0]);

        var results = await (await App.CreateAccountAsync()).EnrichAsync(
            Query("Ada", "Lovelace", $"engines-{t}.com"),
            Query("Charles", "Babbage", $"engines-{t}.com"));
        Assert.Equal([($"ada@engines-{t}.com", "UNKNOWN")], EmailsOf(results[0]));
        Assert.Equal([("+442079460018", "GB")], PhonesOf(results[1]));
    }

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    /// <summary>'directory import FILE.csv', run by the program on the server's database; fails the test unless it succeeds.</summary>
    private async Task<ProgramResult> ImportWithProgramAsync(string csv)
    {
        var folder = Directory.CreateTempSubdirectory("peopleenrich-csv-");
        try
        {
            var file = Path.Combine(folder.FullName, "contacts.csv");
            await File.WriteAllTextAsync(file, csv + "\n");
            var result = (await ProgramRunner.RunAsync(App.Database, "directory", "import", file)).AssertSucceeded();
            Assert.Equal("", result.StandardError);
            return result;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The same import by the running server's own importer.</summary>
    private Task<ImportReport> ImportWithServerAsync(string csv) =>
        App.Service<DirectoryImporter>().ImportAsync(new StringReader(csv + "\n"), CancellationToken.None);

    private Task<string> DirectoryRowsAsync() => DatabaseDump.TablesAsync(App.Service<Database>(), "directory_contacts");
}

public sealed class SqliteDirectoryTests(AppFixture<Sqlite> fixture) : DirectoryTests<Sqlite>(fixture);

public sealed class PostgresDirectoryTests(AppFixture<Postgres> fixture) : DirectoryTests<Postgres>(fixture);
