using System.Runtime.InteropServices;

namespace Pipeline.Kafka.Native;

/// <summary>
/// The few librdkafka C functions the pipeline calls itself: the mock cluster (rdkafka_mock.h), the edge's
/// producer path and the version. Written against librdkafka <see cref="WrittenFor"/> (rdkafka.h, rdkafka_mock.h);
/// UPGRADING.md beside this file says what to check before moving to another version. They resolve to the same
/// native library Confluent.Kafka loads (package librdkafka.redist): call <see cref="LoadedLibrary.Ensure"/> first.
/// </summary>
internal static partial class LibRdKafka
{
    internal const string Library = "librdkafka";

    /// <summary>The librdkafka version these declarations and the struct offsets below were checked against.</summary>
    public const string WrittenFor = "2.16.0";

    public const int ProducerType = 0;

    [LibraryImport(Library, EntryPoint = "rd_kafka_version_str")]
    public static partial IntPtr VersionStr();

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_new")]
    public static partial IntPtr ConfNew();

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ConfSet(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_destroy")]
    public static partial void ConfDestroy(IntPtr conf);

    [LibraryImport(Library, EntryPoint = "rd_kafka_new")]
    public static partial IntPtr New(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library, EntryPoint = "rd_kafka_destroy")]
    public static partial void Destroy(IntPtr rk);

    [LibraryImport(Library, EntryPoint = "rd_kafka_err2str")]
    public static partial IntPtr Err2Str(int err);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_new")]
    public static partial IntPtr MockClusterNew(IntPtr rk, int brokerCount);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    public static partial void MockClusterDestroy(IntPtr mcluster);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    public static partial IntPtr MockClusterBootstraps(IntPtr mcluster);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockTopicCreate(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_down")]
    public static partial int MockBrokerSetDown(IntPtr mcluster, int brokerId);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_up")]
    public static partial int MockBrokerSetUp(IntPtr mcluster, int brokerId);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_rtt")]
    public static partial int MockBrokerSetRtt(IntPtr mcluster, int brokerId, int rttMs);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
    public static partial void MockPushRequestErrorsArray(IntPtr mcluster, short apiKey, UIntPtr count, int[] errors);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_clear_request_errors")]
    public static partial void MockClearRequestErrors(IntPtr mcluster, short apiKey);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    public static partial void MockGroupInitialRebalanceDelayMs(IntPtr mcluster, int delayMs);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_set_group_consumer_session_timeout_ms")]
    public static partial void MockSetGroupConsumerSessionTimeoutMs(IntPtr mcluster, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_set_group_consumer_heartbeat_interval_ms")]
    public static partial void MockSetGroupConsumerHeartbeatIntervalMs(IntPtr mcluster, int intervalMs);

    // The producer path of BatchedAckProducer: produceva, topic handles, the event API for delivery reports.

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_set_events")]
    public static partial void ConfSetEvents(IntPtr conf, int events);

    [LibraryImport(Library, EntryPoint = "rd_kafka_topic_new", StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr TopicNew(IntPtr rk, string topic, IntPtr conf);

    [LibraryImport(Library, EntryPoint = "rd_kafka_topic_name")]
    public static partial IntPtr TopicName(IntPtr rkt);

    [LibraryImport(Library, EntryPoint = "rd_kafka_topic_destroy")]
    public static partial void TopicDestroy(IntPtr rkt);

    [LibraryImport(Library, EntryPoint = "rd_kafka_queue_get_main")]
    public static partial IntPtr QueueGetMain(IntPtr rk);

    [LibraryImport(Library, EntryPoint = "rd_kafka_queue_destroy")]
    public static partial void QueueDestroy(IntPtr queue);

    [LibraryImport(Library, EntryPoint = "rd_kafka_set_log_queue")]
    public static partial int SetLogQueue(IntPtr rk, IntPtr queue);

    [LibraryImport(Library, EntryPoint = "rd_kafka_queue_poll")]
    public static partial IntPtr QueuePoll(IntPtr queue, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "rd_kafka_event_type")]
    public static partial int EventType(IntPtr ev);

    [LibraryImport(Library, EntryPoint = "rd_kafka_event_message_array")]
    public static unsafe partial UIntPtr EventMessageArray(IntPtr ev, IntPtr* messages, UIntPtr size);

    [LibraryImport(Library, EntryPoint = "rd_kafka_event_error")]
    public static partial int EventError(IntPtr ev);

    [LibraryImport(Library, EntryPoint = "rd_kafka_event_error_string")]
    public static partial IntPtr EventErrorString(IntPtr ev);

    [LibraryImport(Library, EntryPoint = "rd_kafka_event_error_is_fatal")]
    public static partial int EventErrorIsFatal(IntPtr ev);

    [LibraryImport(Library, EntryPoint = "rd_kafka_event_log")]
    public static partial int EventLog(IntPtr ev, out IntPtr facility, out IntPtr message, out int level);

    [LibraryImport(Library, EntryPoint = "rd_kafka_event_destroy")]
    public static partial void EventDestroy(IntPtr ev);

    [LibraryImport(Library, EntryPoint = "rd_kafka_produceva")]
    public static unsafe partial IntPtr ProduceVa(IntPtr rk, ProduceArgument* arguments, UIntPtr count);

    [LibraryImport(Library, EntryPoint = "rd_kafka_error_code")]
    public static partial int ErrorCode(IntPtr error);

    [LibraryImport(Library, EntryPoint = "rd_kafka_error_destroy")]
    public static partial void ErrorDestroy(IntPtr error);

    [LibraryImport(Library, EntryPoint = "rd_kafka_flush")]
    public static partial int Flush(IntPtr rk, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "rd_kafka_purge")]
    public static partial int Purge(IntPtr rk, int flags);

    [LibraryImport(Library, EntryPoint = "rd_kafka_outq_len")]
    public static partial int OutqLen(IntPtr rk);

    public const int EventDeliveryReport = 0x1;
    public const int EventLogLine = 0x4;
    public const int EventErrorKind = 0x8;
    public const int PurgeQueue = 0x1;
    public const int PurgeInFlight = 0x2;
    public const int MessageCopy = 0x2;

    public static string Version => Marshal.PtrToStringUTF8(VersionStr()) ?? "";

    public static string ErrorName(int err) => Marshal.PtrToStringUTF8(Err2Str(err)) ?? err.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// One <c>rd_kafka_vu_t</c> (rdkafka.h): a type tag and a union padded to 64 bytes. Only the forms the
/// producer uses are written: a pointer, a pointer and a length, or a header's name, value and size.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct ProduceArgument
{
    public const int Topic = 2;      // RD_KAFKA_VTYPE_RKT
    public const int Value = 4;      // RD_KAFKA_VTYPE_VALUE
    public const int Key = 5;        // RD_KAFKA_VTYPE_KEY
    public const int Opaque = 6;     // RD_KAFKA_VTYPE_OPAQUE
    public const int Flags = 7;      // RD_KAFKA_VTYPE_MSGFLAGS
    public const int Timestamp = 8;  // RD_KAFKA_VTYPE_TIMESTAMP
    public const int Header = 9;     // RD_KAFKA_VTYPE_HEADER

    [FieldOffset(0)] public int Type;
    [FieldOffset(8)] public IntPtr First;
    [FieldOffset(16)] public IntPtr Second;
    [FieldOffset(24)] public IntPtr Third;

    public static ProduceArgument Of(int type, IntPtr first, IntPtr second = default, IntPtr third = default) =>
        new() { Type = type, First = first, Second = second, Third = third };
}
