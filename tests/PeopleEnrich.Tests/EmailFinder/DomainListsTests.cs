using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.EmailFinder;

public sealed class DomainListsTests
{
    [Theory]
    [InlineData("info", true)]
    [InlineData("Sales", true)]
    [InlineData("contact", true)]
    [InlineData("support", true)]
    [InlineData("admin", true)]
    [InlineData("office", true)]
    [InlineData("hello", true)]
    [InlineData("team", true)]
    [InlineData("hr", true)]
    [InlineData("jobs", true)]
    [InlineData("careers", true)]
    [InlineData("billing", true)]
    [InlineData("marketing", true)]
    [InlineData("press", true)]
    [InlineData("noreply", true)]
    [InlineData("no-reply", true)]
    [InlineData("postmaster", true)]
    [InlineData("webmaster", true)]
    [InlineData("abuse", true)]
    [InlineData("info+newsletter", true)]
    [InlineData("jane.doe", false)]
    [InlineData("jdoe", false)]
    [InlineData("dev", false)]
    [InlineData("information.security", false)]
    public void Role_addresses_are_recognised(string localPart, bool isRole)
    {
        Assert.Equal(isRole, RoleAddresses.IsRole(localPart));
    }

    [Theory]
    [InlineData("gmail.com", true)]
    [InlineData("GMAIL.COM.", true)]
    [InlineData("googlemail.com", true)]
    [InlineData("outlook.com", true)]
    [InlineData("hotmail.com", true)]
    [InlineData("hotmail.co.uk", true)]
    [InlineData("live.com", true)]
    [InlineData("yahoo.com", true)]
    [InlineData("yahoo.fr", true)]
    [InlineData("icloud.com", true)]
    [InlineData("me.com", true)]
    [InlineData("aol.com", true)]
    [InlineData("gmx.de", true)]
    [InlineData("gmx.net", true)]
    [InlineData("gmx.at", true)]
    [InlineData("web.de", true)]
    [InlineData("mail.ru", true)]
    [InlineData("yandex.ru", true)]
    [InlineData("yandex.com", true)]
    [InlineData("proton.me", true)]
    [InlineData("protonmail.com", true)]
    [InlineData("mailinator.com", true)]
    [InlineData("guerrillamail.com", true)]
    [InlineData("10minutemail.com", true)]
    [InlineData("acme.com", false)]
    [InlineData("yahoo.acme.com", false)]
    [InlineData("gmx.acme.co.uk", false)]
    [InlineData("mygmail.com", false)]
    [InlineData("acme.test", false)]
    public void Free_mail_and_disposable_domains_are_recognised(string domain, bool isFreeMail)
    {
        Assert.Equal(isFreeMail, FreeMailDomains.Contains(domain));
    }

    [Fact]
    public void Disposable_domains_are_told_apart_from_free_mail()
    {
        Assert.True(FreeMailDomains.IsDisposable("mailinator.com"));
        Assert.False(FreeMailDomains.IsDisposable("gmail.com"));
    }

    [Theory]
    [InlineData("anything.invalid", true)]
    [InlineData("localhost", true)]
    [InlineData("mail.localhost", true)]
    [InlineData("acme.example", true)]
    [InlineData("example.com", true)]
    [InlineData("EXAMPLE.ORG.", true)]
    [InlineData("mx.example.net", true)]
    [InlineData("", true)]
    [InlineData("acme.test", false)]
    [InlineData("mail.acme.test", false)]
    [InlineData("acme.com", false)]
    [InlineData("myexample.com", false)]
    [InlineData("example.co.uk", false)]
    [InlineData("navy-example.org", false)]
    public void Reserved_domains_are_never_contacted_but_test_domains_are(string domain, bool neverContact)
    {
        Assert.Equal(neverContact, ReservedDomains.NeverContact(domain));
    }
}
