using System.Data.Common;
using Microsoft.Extensions.Options;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>
/// Whether the service probes mail servers at all (<c>Smtp:Enabled</c>), and whether it has paused all SMTP probing, and
/// why: refusals naming a block list from several unrelated mail hosts (our address is listed), as recorded in the
/// configured database.
/// </summary>
public sealed class ProbingCheck(MailHostMemory memory, IOptions<SmtpOptions> smtp)
{
    private const string Name = "probing";

    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        if (!smtp.Value.Enabled)
        {
            // The operator's choice, not a fault: but then no answer says a mail server was asked, and a user should know why.
            return CheckResult.Warn(Name, "off (Smtp:Enabled is false): no mail server is asked, so no address is verified",
                "Addresses come only from the directory, websites and upstreams; set Smtp:Enabled to true once the rows above are OK.");
        }

        try
        {
            return await memory.PauseAsync(cancellationToken) is { } pause
                ? CheckResult.Fail(Name, $"paused until {pause.Until:u}: {pause.Why}",
                    "Our address is on block lists (see the block list rows): ask each for delisting; probing resumes by itself then.")
                : CheckResult.Ok(Name, "not paused");
        }
        catch (DbException exception)
        {
            // A database the server never ran on has no record of refusals: nothing can have paused it.
            return exception.Message.Contains("mail_host_standing", StringComparison.OrdinalIgnoreCase)
                ? CheckResult.Ok(Name, "not paused (the service has not run on this database yet)")
                : CheckResult.Warn(Name, $"could not read the database: {exception.Message}", "Check ConnectionStrings: the doctor reads the service's database.");
        }
    }
}
