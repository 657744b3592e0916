using System.Globalization;
using World = PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Testing;

/// <summary>
/// The configuration that points the app at a running simulated world: the world's DNS server is its
/// only resolver, the world's SMTP port and web ports are the ones it uses, and connections may reach
/// loopback (only loopback: a world's MX or website at 10.0.0.5 is still refused). The crawler runs only
/// in worlds that have websites, trusting the world's certificate. What else a caller tunes (HELO name,
/// time-outs, workers) it adds on top.
/// </summary>
public static class WorldSettings
{
    public static Dictionary<string, string?> For(World world)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Smtp:Enabled"] = "true",
            ["Smtp:Port"] = world.SmtpPort.ToString(CultureInfo.InvariantCulture),
            ["Dns:Servers:0"] = world.DnsEndPoint.ToString(),
            // The world answers at once or not at all.
            ["Dns:Timeout"] = "00:00:03",
            ["Network:AllowLoopbackAddresses"] = "true",
            ["Crawler:Enabled"] = world.Websites.Count > 0 ? "true" : "false",
            // The world's servers are ours: no address's reputation to spare (a test of the budget sets its own).
            ["Smtp:MaxRcptPerMinute"] = "0",
            ["Smtp:MaxRcptPerDay"] = "0",
        };
        if (world.Websites.Count > 0)
        {
            settings["Crawler:TrustedCertificatePem"] = world.CertificatePem;
            // A world whose sites all refuse one scheme binds no port for it: the default stays, and nothing answers there.
            if (world.HttpPort > 0)
            {
                settings["Crawler:HttpPort"] = world.HttpPort.ToString(CultureInfo.InvariantCulture);
            }

            if (world.HttpsPort > 0)
            {
                settings["Crawler:HttpsPort"] = world.HttpsPort.ToString(CultureInfo.InvariantCulture);
            }
        }

        return settings;
    }
}
