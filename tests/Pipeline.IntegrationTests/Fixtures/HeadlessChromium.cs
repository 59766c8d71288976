using Microsoft.Playwright;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// Debian's Chromium (the <c>chromium</c> package, installed by infra/setup.sh) driven by Playwright, headless,
/// with a fresh profile of its own. Playwright's driver ships inside its NuGet package (copied next to the
/// tests); no browser is ever downloaded: the executable is given by path.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";
    private readonly IPlaywright _playwright;
    private readonly DirectoryInfo _profile;

    private HeadlessChromium(IPlaywright playwright, IBrowserContext context, DirectoryInfo profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    public IBrowserContext Context { get; }

    /// <summary>Where screenshots go: TestResults/screenshots in the repository (kept as test artifacts).</summary>
    public static string Screenshots { get; } = Repository.Path_("TestResults", "screenshots");

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        if (!File.Exists(Executable)) throw new InvalidOperationException($"{Executable} is missing: infra/setup.sh installs Debian's chromium");
        var playwright = await Playwright.CreateAsync();
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile.FullName, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                Args =
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                ],
                ViewportSize = new ViewportSize { Width = 1400, Height = 1150 },
                Timeout = 60_000,
            });
            return new HeadlessChromium(playwright, context, profile);
        }
        catch
        {
            playwright.Dispose();
            profile.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>A full-page screenshot saved under <see cref="Screenshots"/> as <paramref name="name"/>.png; returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        var path = Path.Combine(Screenshots, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
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
            // Chromium may still be writing its profile as it exits; a temporary folder left behind is harmless.
        }
    }
}
