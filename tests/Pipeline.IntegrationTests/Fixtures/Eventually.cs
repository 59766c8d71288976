namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Waits on a condition with a deadline, polling; never a fixed sleep.</summary>
internal static class Eventually
{
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var interval = every ?? TimeSpan.FromMilliseconds(200);
        T last;
        while (true)
        {
            last = await probe();
            if (done(last)) return last;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not reached within {timeout} (last: {last})");
            await Task.Delay(interval);
        }
    }

    public static Task<bool> True(Func<Task<bool>> probe, TimeSpan timeout, string what) => Until(probe, b => b, timeout, what);

    public static Task<bool> True(Func<bool> probe, TimeSpan timeout, string what, TimeSpan? every = null) => Until(() => Task.FromResult(probe()), b => b, timeout, what, every);
}
