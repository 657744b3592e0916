using System.Text.RegularExpressions;

namespace PeopleEnrich.Bounces;

/// <summary>What a reported reply says of the address, from its codes alone ("550 5.1.1 <jane@acme.com>: user unknown").</summary>
public enum BounceKind
{
    /// <summary>A permanent failure (5xx), or no reply given: the address does not take mail.</summary>
    Permanent,

    /// <summary>A temporary failure (4xx, 4.x.x): the mailbox may well exist; try again later.</summary>
    Temporary,

    /// <summary>A refusal by policy (5.7.x: spam, reputation, authentication): it says nothing of the mailbox.</summary>
    Policy,
}

/// <summary>
/// The reply a caller reports with a bounce, read for its codes only: the codes decide whether it is a bounce at all, and are
/// all that is kept (the text may name the caller's own servers and senders, which other accounts' evidence must not show).
/// </summary>
public static partial class BounceReply
{
    /// <summary>The kind of failure and its codes ("550 5.1.1"; null when the reply has none, or there is no reply).</summary>
    public static (BounceKind Kind, string? Codes) Read(string? reply)
    {
        if (string.IsNullOrWhiteSpace(reply))
        {
            return (BounceKind.Permanent, null);
        }

        var basic = Basic().Match(reply);
        var enhanced = basic.Success && basic.Groups["class"].Success ? basic : Enhanced().Match(reply);
        string? codes = basic.Success
            ? basic.Groups["class"].Success ? $"{basic.Groups["code"].Value} {basic.Groups["enhanced"].Value}" : basic.Groups["code"].Value
            : enhanced.Success ? enhanced.Groups["enhanced"].Value : null;
        var first = basic.Success ? basic.Groups["code"].Value[0] : enhanced.Success ? enhanced.Groups["class"].Value[0] : '5';
        var policy = enhanced.Success && enhanced.Groups["class"].Value == "5" && enhanced.Groups["subject"].Value == "7";
        var kind = first == '4' || (enhanced.Success && enhanced.Groups["class"].Value == "4") ? BounceKind.Temporary
            : policy ? BounceKind.Policy
            : BounceKind.Permanent;
        return (kind, codes);
    }

    // "550", optionally followed by its enhanced code "5.1.1" (RFC 3463); "smtp; 550-5.1.1 …" as DSNs write it.
    [GeneratedRegex(@"(?<![\w.])(?<code>[45][0-9]{2})(?:[ -]+(?<enhanced>(?<class>[245])\.(?<subject>[0-9]{1,3})\.[0-9]{1,3}))?(?![\w.])")]
    private static partial Regex Basic();

    [GeneratedRegex(@"(?<![\w.])(?<enhanced>(?<class>[245])\.(?<subject>[0-9]{1,3})\.[0-9]{1,3})(?![\w.])")]
    private static partial Regex Enhanced();
}
