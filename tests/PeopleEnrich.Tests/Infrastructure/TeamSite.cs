extern alias SimulatedWorld;

using SimulatedWorld::PeopleEnrich.MailWorld;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>The simulated world's acme.test: two mailboxes (jane.doe, john.smith) and a website whose pages the test writes.</summary>
public static class TeamSite
{
    public static DomainDescription Acme(string homeBody, string teamBody) => new()
    {
        Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = ["jane.doe", "john.smith"],
        Website = new WebsiteDescription
        {
            Pages =
            [
                new PageDescription { Path = "/", Body = $"<html lang=\"en\"><body>{homeBody}</body></html>" },
                new PageDescription { Path = "/team", Body = $"<html lang=\"en\"><body>{teamBody}</body></html>" },
            ],
        },
    };
}
