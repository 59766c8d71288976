using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Pipeline.Ops.Kafka;

/// <summary>What is known about a group's members before its position is changed.</summary>
internal sealed record GroupMembership(GroupLiveness Liveness, int Members, string Detail)
{
    public static GroupMembership Unknown(string why) => new(GroupLiveness.Unknown, 0, why);
}

internal enum GroupLiveness
{
    /// <summary>The group has no members: its position may be changed.</summary>
    Empty,
    /// <summary>Members are consuming: changing the position under them would be overwritten or race them.</summary>
    Live,
    /// <summary>The broker cannot say (the embedded cluster has no DescribeGroups); joining the group tells.</summary>
    Unknown,
}

/// <summary>Says whether a consumer group has live members.</summary>
internal interface IGroupInspector
{
    GroupMembership Inspect(string group);
}

/// <summary>
/// Asks Kafka (DescribeConsumerGroups). A broker that does not implement it — the embedded cluster — gets
/// <see cref="GroupLiveness.Unknown"/>; the caller then joins the group itself and sees whether it is given
/// every partition (<see cref="GroupLease"/>), which only an otherwise empty group does.
/// </summary>
internal sealed class KafkaGroupInspector(KafkaConnection kafka) : IGroupInspector
{
    public GroupMembership Inspect(string group)
    {
        using var admin = kafka.Admin();
        try
        {
            var result = admin.DescribeConsumerGroupsAsync([group], new DescribeConsumerGroupsOptions { RequestTimeout = KafkaConnection.RequestTimeout })
                .GetAwaiter().GetResult();
            var description = result.ConsumerGroupDescriptions.Single();
            if (description.Error.IsError) return GroupMembership.Unknown(description.Error.Reason);
            var members = description.Members?.Count ?? 0;
            return members > 0
                ? new GroupMembership(GroupLiveness.Live, members, $"{members} live member(s): {string.Join(", ", description.Members!.Select(m => $"{m.ClientId}@{m.Host}"))}")
                : new GroupMembership(GroupLiveness.Empty, 0, $"state {description.State}");
        }
        catch (DescribeConsumerGroupsException ex)
        {
            return GroupMembership.Unknown(ex.Error.Reason);
        }
        catch (KafkaException ex)
        {
            return GroupMembership.Unknown(ex.Error.Reason);
        }
    }
}
