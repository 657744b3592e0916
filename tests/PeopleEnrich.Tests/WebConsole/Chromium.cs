using Microsoft.Playwright;

namespace PeopleEnrich.Tests.WebConsole;

/// <summary>
/// Debian's chromium driven by Playwright (its driver ships in the NuGet package; no browser is ever downloaded), in a
/// fresh profile that is deleted afterwards. A machine without chromium fails the test with how to install it: a
/// browser test that skipped itself would prove nothing.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>Where chromium is looked for unless PEOPLEENRICH_TEST_CHROMIUM names another binary.</summary>
    public const string DefaultPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly DirectoryInfo _profile;

    private Chromium(IPlaywright playwright, IBrowserContext context, DirectoryInfo profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    public IBrowserContext Context { get; }

    public static string ExecutablePath => Environment.GetEnvironmentVariable("PEOPLEENRICH_TEST_CHROMIUM") is { Length: > 0 } path ? path : DefaultPath;

    public static async Task<Chromium> LaunchAsync(int width = 1280, int height = 900)
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Fail($"The browser tests need chromium at {ExecutablePath}: install it with 'sudo apt-get install chromium' " +
                "(Debian/Ubuntu), or set PEOPLEENRICH_TEST_CHROMIUM to a chromium binary. No browser is downloaded.");
        }

        var playwright = await Playwright.CreateAsync();
        var profile = Directory.CreateTempSubdirectory("peopleenrich-chromium-");
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile.FullName, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                // What this machine needs: no sandbox (containers), no GPU, and nothing that reaches for the internet.
                Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync"],
                AcceptDownloads = true,
                ViewportSize = new ViewportSize { Width = width, Height = height },
            });
            return new Chromium(playwright, context, profile);
        }
        catch
        {
            playwright.Dispose();
            profile.Delete(recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        _playwright.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Screenshots of each step, kept as test output: files under TestResults/console/ beside the tests, and attachments of the test.</summary>
public sealed class Screenshots(string test)
{
    private int _step;

    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "console");

    public async Task TakeAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Folder);
        var file = Path.Combine(Folder, $"{test}-{++_step:00}-{name}.png");
        var png = await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
        TestContext.Current.AddAttachment($"{test}-{_step:00}-{name}.png", png, "image/png");
    }
}
