-- The network operations team's events, one row per event, partitioned by day of receipt so that
-- retention drops whole days (the seed's "delete where insert_datetime <= now() - 14 days", without
-- the delete). Day partitions (events_pYYYYMMDD) are created by the sink as days arrive.
create table if not exists events (
    id              text        not null,             -- ULID minted at the edge: rows are unique by it
    received_at     timestamptz not null,             -- edge clock
    event_time      timestamptz,                      -- when it happened at its origin (syslog timestamp)
    kind            text        not null,             -- log | metric | trace | event
    host            text,
    app             text,
    facility        smallint,
    severity        smallint,                         -- 0 emerg … 7 debug
    message         text,
    source_ip       inet,                             -- the sender as the edge saw it
    transport       text,
    edge            text,
    tenant          text,
    sample_rate     integer     not null default 1,   -- this row stands for this many events
    stream_id       text,                             -- streams.id (no foreign key: rows arrive in any order)
    parse_status    text,
    payload         jsonb       not null,             -- the whole v1 envelope
    topic           text        not null,
    kafka_partition integer     not null,
    kafka_offset    bigint      not null,
    inserted_at     timestamptz not null default now(),
    primary key (id, received_at)
) partition by range (received_at);

-- "this host, last hour"
create index if not exists events_host_time on events (host, received_at desc);
-- "errors, last 15 minutes"
create index if not exists events_errors_time on events (received_at desc, severity) where severity <= 3;

-- The connection or request events arrived on, with its headers (as the seed's streams table).
create table if not exists streams (
    id         text        primary key,
    headers    jsonb       not null,
    first_seen timestamptz not null default now()
);
