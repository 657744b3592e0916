namespace PeopleEnrich.MailWorld;

/// <summary>How a company builds its addresses from a person's first and last name.</summary>
public enum AddressPattern
{
    FirstDotLast,   // jane.doe
    FLast,          // jdoe
    First,          // jane
    FirstLast,      // janedoe
    FDotLast,       // j.doe
    LastDotFirst,   // doe.jane
    FirstUnderscoreLast, // jane_doe
    LastF,          // doej
    FirstDotL,      // jane.d
    Last,           // doe
}

public static class AddressPatterns
{
    public static IReadOnlyList<AddressPattern> All { get; } = Enum.GetValues<AddressPattern>();

    /// <summary>The local part for a person; names are expected lower-case ASCII letters.</summary>
    public static string Apply(this AddressPattern pattern, string first, string last)
    {
        first = first.ToLowerInvariant();
        last = last.ToLowerInvariant();
        return pattern switch
        {
            AddressPattern.FirstDotLast => $"{first}.{last}",
            AddressPattern.FLast => $"{first[0]}{last}",
            AddressPattern.First => first,
            AddressPattern.FirstLast => $"{first}{last}",
            AddressPattern.FDotLast => $"{first[0]}.{last}",
            AddressPattern.LastDotFirst => $"{last}.{first}",
            AddressPattern.FirstUnderscoreLast => $"{first}_{last}",
            AddressPattern.LastF => $"{last}{first[0]}",
            AddressPattern.FirstDotL => $"{first}.{last[0]}",
            AddressPattern.Last => last,
            _ => throw new ArgumentOutOfRangeException(nameof(pattern)),
        };
    }

    /// <summary>The pattern written with the words first/last and f/l, e.g. "first.last", "flast", "f.last".</summary>
    public static string Template(this AddressPattern pattern) => pattern switch
    {
        AddressPattern.FLast => "flast",
        AddressPattern.FDotLast => "f.last",
        AddressPattern.LastF => "lastf",
        AddressPattern.FirstDotL => "first.l",
        _ => pattern.Apply("first", "last"),
    };
}

/// <summary>
/// What kind of domain a generated one is; every kind appears at least once when there are enough domains, the last
/// four only with <see cref="WorldGeneratorOptions.RealWorldBehaviours"/>.
/// </summary>
public enum Scenario
{
    Normal, TwoMx, CatchAll, Greylist, Slow, Busy, RateLimited, PolicyBlockConnect, PolicyBlockMailFrom,
    StartTlsOffered, StartTlsRequired, Tarpit, M365, ImplicitMx, NullMx, PrivateMx, NoSuchDomain,

    /// <summary>Behaviour postfix: Postfix's error limits at their defaults (10 errors, then 1 s per reply; 421 at 20).</summary>
    Postfix,

    /// <summary>Greylisting at postgrey's default delay (<see cref="WorldGeneratorOptions.PostgreySeconds"/>, 300 s).</summary>
    Postgrey,

    /// <summary>Our client is on a block list: every RCPT gets Postfix's reject_rbl_client 554 (policy_block at rcpt).</summary>
    BlockListed,

    /// <summary>Two MX hosts in DNS, both refusing connections (refuse_connections).</summary>
    DeadMx,
}

public sealed record WorldGeneratorOptions
{
    public int Seed { get; init; } = 1;
    public int DomainCount { get; init; } = 40;
    public int PeopleCount { get; init; } = 400;

    /// <summary>
    /// Share of people at mail-accepting domains who have no mailbox (left the company, never had one), when
    /// <see cref="PeopleWithoutMailbox"/> is not set. One of them may share a guess with a colleague's mailbox (John
    /// Smith's "john@" is John Doe's): worlds drawn before that option are kept as they were.
    /// </summary>
    public double NoMailboxShare { get; init; } = 0.1;

    /// <summary>
    /// When set, the share of people at mail-accepting domains who have no mailbox (instead of <see cref="NoMailboxShare"/>),
    /// drawn so that no address any <see cref="AddressPattern"/> makes of their name is a mailbox at their domain: its
    /// server rejects every candidate of theirs (unless it accepts everything, as a catch-all does). Names are drawn
    /// again until they fit, 100 times at most; past that (a domain with more people than names) the person gets a
    /// mailbox, so a crowded domain may have fewer people without one. Changes the world drawn from a seed.
    /// </summary>
    public double? PeopleWithoutMailbox { get; init; }

    /// <summary>
    /// Add the scenarios copied from real mail software (<see cref="Scenario.Postfix"/>, <see cref="Scenario.Postgrey"/>,
    /// <see cref="Scenario.BlockListed"/>, <see cref="Scenario.DeadMx"/>), each at least once when there are enough
    /// domains. Off by default, so that a seed gives the world it always gave; on, it draws another one.
    /// </summary>
    public bool RealWorldBehaviours { get; init; }

    /// <summary>
    /// How often each <see cref="AddressPattern"/> is drawn as a domain's pattern (relative weights); null draws them uniformly,
    /// as worlds always were. <see cref="WorldGenerator.RealisticPatternShares"/> are the shares real companies were counted to use.
    /// Only the patterns change: every other draw of the world stays the one its seed gave (the people at mail-less
    /// domains too; the names of people without a mailbox may be drawn again where the new patterns make a clash).
    /// </summary>
    public IReadOnlyDictionary<AddressPattern, double>? PatternShares { get; init; }

    /// <summary>With <see cref="RealWorldBehaviours"/>: the greylisting delay of <see cref="Scenario.Postgrey"/> domains (postgrey's default).</summary>
    public int PostgreySeconds { get; init; } = 300;

    public int TarpitMs { get; init; } = 10_000;
    public int SlowReplyDelayMs { get; init; } = 200;
    public int GreylistSeconds { get; init; } = 2;
    public int DnsPort { get; init; }
    public int SmtpPort { get; init; }
    public int HttpPort { get; init; }
    public int HttpsPort { get; init; }

    /// <summary>
    /// Give domains websites (<see cref="GeneratedWorld.Websites"/> is their ground truth). Off by default; when on, the
    /// mail world is the same one except that domains of a country are named with its suffix (.de, .fr, .co.uk).
    /// </summary>
    public bool Websites { get; init; }

    /// <summary>With <see cref="Websites"/>: the share of domains in DNS that get a website (at least one does).</summary>
    public double WebsiteShare { get; init; } = 0.5;

    /// <summary>With <see cref="Websites"/>: the share of websites in Germany, France or the UK (named .de, .fr, .co.uk); the rest are US sites on .test.</summary>
    public double CountryDomainShare { get; init; } = 0.3;
}

/// <summary>A generated domain: its scenario and address pattern, and whether an SMTP dialogue can tell its mailboxes apart.</summary>
public sealed record GeneratedDomain(string Name, Scenario Scenario, AddressPattern Pattern)
{
    /// <summary>In DNS at all (false for <see cref="Scenario.NoSuchDomain"/>).</summary>
    public bool Exists => Scenario != Scenario.NoSuchDomain;

    /// <summary>Mail is deliverable to its people at all (false for null MX and unknown domains).</summary>
    public bool AcceptsMail => Scenario is not (Scenario.NullMx or Scenario.NoSuchDomain);

    /// <summary>
    /// A finder that honours the rules (one RCPT per session where needed, retry after greylisting, STARTTLS, patience with
    /// slow servers, fewer errors per session than Postfix's hard limit) can tell an existing mailbox from a missing one.
    /// False for catch-all, policy blocks (block-listed included), tarpits (unless the finder waits the whole delay),
    /// private MX addresses, MX hosts refusing connections, null MX and unknown domains.
    /// </summary>
    public bool Verifiable => Scenario is not (Scenario.CatchAll or Scenario.PolicyBlockConnect or Scenario.PolicyBlockMailFrom
        or Scenario.Tarpit or Scenario.PrivateMx or Scenario.NullMx or Scenario.NoSuchDomain or Scenario.BlockListed or Scenario.DeadMx);
}

/// <summary>One person of the ground truth: <see cref="Address"/> is their real address, or null when they have none.</summary>
public sealed record Person(string FirstName, string LastName, string Domain, string? Address);

public sealed record GeneratedWorld(WorldDescription Description, IReadOnlyList<GeneratedDomain> Domains, IReadOnlyList<Person> People)
{
    /// <summary>The ground truth of every website (<see cref="WorldGeneratorOptions.Websites"/>), in domain order; empty without.</summary>
    public IReadOnlyList<GeneratedWebsite> Websites { get; init; } = [];

    public GeneratedDomain Domain(string name) => Domains.Single(d => d.Name == name);

    public GeneratedWebsite Website(string domain) => Websites.Single(w => w.Domain == domain);
}

/// <summary>Builds a world of many domains mixing every behaviour, with people and their ground truth; the same seed gives the same world.</summary>
public static class WorldGenerator
{
    private static readonly string[] FirstNames =
    [
        "james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "elizabeth", "william", "barbara",
        "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen", "daniel", "lisa", "matthew", "nancy",
        "anthony", "betty", "mark", "sandra", "paul", "ashley", "steven", "emily", "andrew", "donna", "kenneth", "michelle",
        "joshua", "carol", "kevin", "amanda", "brian", "melissa", "george", "deborah", "timothy", "stephanie", "ronald", "rebecca",
        "jason", "laura", "edward", "helen", "ryan", "sharon", "jacob", "cynthia", "gary", "kathleen", "nicholas", "amy",
        "eric", "anna", "jonathan", "shirley", "stephen", "angela", "larry", "ruth", "justin", "brenda", "scott", "pamela",
        "ada", "grace", "alan", "hedy", "linus", "margaret", "dennis", "radia", "ken", "frances",
    ];

    private static readonly string[] LastNames =
    [
        "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez", "hernandez",
        "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson",
        "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright",
        "scott", "torres", "nguyen", "hill", "flores", "green", "adams", "nelson", "baker", "hall", "rivera", "campbell",
        "mitchell", "carter", "roberts", "gomez", "phillips", "evans", "turner", "diaz", "parker", "cruz", "edwards", "collins",
        "reyes", "stewart", "morris", "morales", "murphy", "cook", "rogers", "gutierrez", "ortiz", "morgan", "cooper", "peterson",
        "bailey", "reed", "kelly", "howard", "ramos", "kim", "cox", "ward", "richardson", "watson", "brooks", "chavez", "wood",
        "lovelace", "hopper", "turing", "lamarr", "torvalds", "hamilton", "ritchie", "perlman", "thompson", "allen",
    ];

    private static readonly string[] Words1 =
    [
        "blue", "red", "green", "silver", "golden", "north", "south", "east", "west", "bright", "swift", "quiet", "bold", "clear",
        "deep", "high", "iron", "stone", "cloud", "river", "ocean", "summit", "prime", "nova", "alpha", "delta", "omega", "urban",
    ];

    private static readonly string[] Words2 =
    [
        "falcon", "labs", "works", "systems", "logistics", "foods", "health", "capital", "media", "energy", "robotics", "partners",
        "studio", "networks", "analytics", "farms", "motors", "bank", "press", "designs", "ventures", "dynamics", "supply", "bio",
    ];

    /// <summary>The scenarios added by <see cref="WorldGeneratorOptions.RealWorldBehaviours"/>.</summary>
    private static readonly Scenario[] RealWorldScenarios = [Scenario.Postfix, Scenario.Postgrey, Scenario.BlockListed, Scenario.DeadMx];

    /// <summary>Scenarios filling the domains after each has appeared once, weighted towards ordinary servers.</summary>
    private static readonly Scenario[] FillMix =
    [
        Scenario.Normal, Scenario.Normal, Scenario.Normal, Scenario.Normal, Scenario.TwoMx, Scenario.TwoMx, Scenario.CatchAll,
        Scenario.Greylist, Scenario.StartTlsOffered, Scenario.M365, Scenario.ImplicitMx, Scenario.RateLimited, Scenario.Slow,
    ];

    /// <summary>
    /// The shares of companies using each pattern, as counted or estimated by the sources in the finder's
    /// <c>src/PeopleEnrich/Vocabulary/PATTERNS.md</c> (vendor figures, one counted survey of 59 business contacts, mined
    /// address tuples): first.last 38 %, flast 22 %, first 14 %, firstlast 7 %, f.last 4 %, first_last 2.5 %, last.first 2 %,
    /// lastf 1.5 %, first.l 1.5 %, last 0.5 %. (The finder's own priors are the same figures, which is what a finder must
    /// assume; the world's patterns are drawn from them, never chosen to suit one.)
    /// </summary>
    public static IReadOnlyDictionary<AddressPattern, double> RealisticPatternShares { get; } = new Dictionary<AddressPattern, double>
    {
        [AddressPattern.FirstDotLast] = 0.38, [AddressPattern.FLast] = 0.22, [AddressPattern.First] = 0.14, [AddressPattern.FirstLast] = 0.07,
        [AddressPattern.FDotLast] = 0.04, [AddressPattern.FirstUnderscoreLast] = 0.025, [AddressPattern.LastDotFirst] = 0.02,
        [AddressPattern.LastF] = 0.015, [AddressPattern.FirstDotL] = 0.015, [AddressPattern.Last] = 0.005,
    };

    /// <summary>One draw of the random source either way (uniform or weighted), so that the draws after it stay the seed's.</summary>
    private static AddressPattern DrawPattern(Random random, IReadOnlyDictionary<AddressPattern, double>? shares)
    {
        if (shares is null)
        {
            return AddressPatterns.All[random.Next(AddressPatterns.All.Count)];
        }

        var total = AddressPatterns.All.Sum(p => shares.GetValueOrDefault(p));
        var point = random.NextDouble() * total;
        foreach (var pattern in AddressPatterns.All)
        {
            point -= shares.GetValueOrDefault(pattern);
            if (point < 0)
            {
                return pattern;
            }
        }

        return AddressPatterns.All.Last(p => shares.GetValueOrDefault(p) > 0);
    }

    public static GeneratedWorld Generate(WorldGeneratorOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.DomainCount);
        ArgumentOutOfRangeException.ThrowIfNegative(options.PeopleCount);
        var random = new Random(options.Seed);

        // The list shuffled must stay the one it was (every scenario before the real-world ones, in order) for a seed
        // to keep giving its world.
        var scenarios = Enum.GetValues<Scenario>().Where(s => options.RealWorldBehaviours || !RealWorldScenarios.Contains(s)).ToList();
        Shuffle(scenarios, random);
        while (scenarios.Count < options.DomainCount) scenarios.Add(FillMix[random.Next(FillMix.Length)]);
        scenarios = scenarios.Take(options.DomainCount).ToList();

        var names = new HashSet<string>();
        var domains = new List<GeneratedDomain>();
        foreach (var scenario in scenarios)
        {
            string name;
            do name = $"{Words1[random.Next(Words1.Length)]}{Words2[random.Next(Words2.Length)]}{(names.Count >= Words1.Length * Words2.Length / 2 ? random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture) : "")}.test";
            while (!names.Add(name));
            domains.Add(new GeneratedDomain(name, scenario, DrawPattern(random, options.PatternShares)));
        }

        // Websites draw from their own generator, so that turning them on leaves every draw of the mail world as it was.
        var webRandom = new Random(unchecked(options.Seed * 7919 + 104729));
        var sites = options.Websites ? WebsiteGenerator.ChooseSites(domains, options, webRandom) : [];

        var mailboxes = domains.ToDictionary(d => d.Name, _ => new List<string>());
        // With PeopleWithoutMailbox: every local part a person without a mailbox would be guessed at, per domain.
        var guessed = domains.ToDictionary(d => d.Name, _ => new HashSet<string>());
        var people = new List<Person>();
        var seenPeople = new HashSet<(string, string, string)>();
        for (var i = 0; i < options.PeopleCount && domains.Count > 0; i++)
        {
            var domain = i < domains.Count ? domains[i] : domains[random.Next(domains.Count)];
            string first, last;
            bool hasMailbox;
            if (options.PeopleWithoutMailbox is { } share)
            {
                (first, last, hasMailbox) = DrawApart(domain, share, mailboxes[domain.Name], guessed[domain.Name], seenPeople, random);
            }
            else
            {
                do { first = FirstNames[random.Next(FirstNames.Length)]; last = LastNames[random.Next(LastNames.Length)]; }
                while (!seenPeople.Add((first, last, domain.Name)));
                hasMailbox = domain.AcceptsMail && random.NextDouble() >= options.NoMailboxShare;
            }
            string? address = null;
            if (hasMailbox)
            {
                var boxes = mailboxes[domain.Name];
                var local = domain.Pattern.Apply(first, last);
                // Two people whose pattern collides: the later one gets a number, as real companies do (and so does one
                // whose pattern is a guess at someone without a mailbox, when no other name fitted: digits are nobody's guess).
                for (var n = 2; boxes.Contains(local) || guessed[domain.Name].Contains(local); n++)
                    local = domain.Pattern.Apply(first, last) + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                boxes.Add(local);
                address = $"{local}@{domain.Name}";
            }
            people.Add(new Person(Capitalise(first), Capitalise(last), domain.Name, address));
        }

        var descriptions = new List<DomainDescription>();
        var websites = new List<GeneratedWebsite>();
        for (var i = 0; i < domains.Count; i++)
        {
            var d = domains[i];
            if (d.Scenario == Scenario.NoSuchDomain) continue;
            var boxes = mailboxes[d.Name];
            if (random.Next(2) == 0) boxes.AddRange(["info", "contact"]);
            var described = Describe(d, boxes, options);
            var staff = people.Where(p => p.Domain == d.Name).ToList();
            if (sites.TryGetValue(i, out var country) && staff.Count > 0)
            {
                var (site, truth) = WebsiteGenerator.Build(d, country, staff, webRandom);
                described = described with { Website = site };
                websites.Add(truth);
            }
            descriptions.Add(described);
        }

        var description = new WorldDescription
        {
            DnsPort = options.DnsPort, SmtpPort = options.SmtpPort, HttpPort = options.HttpPort, HttpsPort = options.HttpsPort, Domains = descriptions,
        };
        return new GeneratedWorld(description, domains, people) { Websites = websites };
    }

    /// <summary>
    /// A person for <see cref="WorldGeneratorOptions.PeopleWithoutMailbox"/>: whether they have a mailbox is drawn
    /// first, then a name that keeps people without a mailbox apart from the domain's mailboxes: none of their guesses
    /// (every pattern of their name) is a mailbox, and a mailbox is none of their guesses. A name that does not fit is
    /// drawn again, 100 times at most; then the person gets a mailbox (numbered, if its local part is someone's guess).
    /// </summary>
    private static (string First, string Last, bool HasMailbox) DrawApart(
        GeneratedDomain domain, double share, List<string> boxes, HashSet<string> guessed, HashSet<(string, string, string)> seen, Random random)
    {
        var hasMailbox = domain.AcceptsMail && random.NextDouble() >= share;
        for (var attempt = 1; ; attempt++)
        {
            var first = FirstNames[random.Next(FirstNames.Length)];
            var last = LastNames[random.Next(LastNames.Length)];
            if (seen.Contains((first, last, domain.Name))) continue;
            var guesses = AddressPatterns.All.Select(p => p.Apply(first, last)).ToList();
            var fits = hasMailbox ? !guessed.Contains(domain.Pattern.Apply(first, last)) : !guesses.Any(boxes.Contains);
            if (!fits && attempt < 100) continue;
            seen.Add((first, last, domain.Name));
            if (!fits) return (first, last, true);
            if (!hasMailbox) guessed.UnionWith(guesses);
            return (first, last, hasMailbox);
        }
    }

    private static DomainDescription Describe(GeneratedDomain d, List<string> boxes, WorldGeneratorOptions o)
    {
        var mx1 = new MxDescription { Preference = 10, Host = $"mx1.{d.Name}" };
        var basic = new DomainDescription { Name = d.Name, Mx = [mx1], Mailboxes = boxes.ToArray() };
        return d.Scenario switch
        {
            Scenario.Normal => basic,
            Scenario.TwoMx => basic with { Mx = [mx1, new MxDescription { Preference = 20, Host = $"mx2.{d.Name}" }] },
            Scenario.CatchAll => basic with { Behaviour = Behaviour.CatchAll },
            Scenario.Greylist => basic with { Behaviour = Behaviour.Greylist, GreylistSeconds = o.GreylistSeconds },
            Scenario.Slow => basic with { Behaviour = Behaviour.Slow, ReplyDelayMs = o.SlowReplyDelayMs },
            Scenario.Busy => basic with { Behaviour = Behaviour.Busy, MaxSessions = 1 },
            Scenario.RateLimited => basic with { Behaviour = Behaviour.RateLimited, MaxRecipients = 3 },
            Scenario.PolicyBlockConnect => basic with { Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Connect },
            Scenario.PolicyBlockMailFrom => basic with { Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.MailFrom },
            Scenario.StartTlsOffered => basic with { Starttls = StartTls.Offered },
            Scenario.StartTlsRequired => basic with { Starttls = StartTls.Required },
            Scenario.Tarpit => basic with { Behaviour = Behaviour.Tarpit, TarpitMs = o.TarpitMs },
            Scenario.M365 => basic with
            {
                Behaviour = Behaviour.M365,
                Mx = [new MxDescription { Preference = 0, Host = $"{d.Name.Replace('.', '-')}.mail.protection.outlook.test" }],
            },
            Scenario.ImplicitMx => basic with { Mx = null, A = true },
            Scenario.NullMx => basic with { Mx = null, NullMx = true, Mailboxes = [] },
            Scenario.PrivateMx => basic with { MxAddress = "10.0.0.5" },
            Scenario.Postfix => basic with { Behaviour = Behaviour.Postfix },
            Scenario.Postgrey => basic with { Behaviour = Behaviour.Greylist, GreylistSeconds = o.PostgreySeconds },
            Scenario.BlockListed => basic with { Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Rcpt },
            Scenario.DeadMx => basic with { Mx = [mx1, new MxDescription { Preference = 20, Host = $"mx2.{d.Name}" }], RefuseConnections = true },
            _ => throw new ArgumentOutOfRangeException(nameof(d)),
        };
    }

    private static void Shuffle<T>(List<T> list, Random random)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private static string Capitalise(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
