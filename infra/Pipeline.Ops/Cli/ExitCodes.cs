namespace Pipeline.Ops.Cli;

/// <summary>What every command's exit code means, so scripts and monitoring can branch on it.</summary>
internal static class ExitCodes
{
    /// <summary>Done, and nothing needs attention.</summary>
    public const int Ok = 0;

    /// <summary>Done, but something needs attention: lag over the threshold, topic drift with --fail-on-drift, a replay that did not reach its end.</summary>
    public const int Attention = 1;

    /// <summary>Bad input or configuration: an unknown option, an unreadable file, Kafka or PostgreSQL not reachable.</summary>
    public const int Usage = 2;

    /// <summary>Refused for safety: a reset while the group has live members, or one the sink's store cannot take.</summary>
    public const int Refused = 3;

    /// <summary>Failed in a way the command did not foresee (a bug, or a Kafka error it has no words for); the message has the details.</summary>
    public const int Failed = 4;
}

/// <summary>Bad input or configuration; the message says what to fix (exit code 2).</summary>
internal sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The command will not do this because it would be unsafe; the message says why and what to do instead (exit code 3).</summary>
internal sealed class RefusedException(string message) : Exception(message);
