-- Metric events (scraped samples and the HTTP counters/timers), one row per sample, kept apart from
-- events: they are many, narrow and read by name, labels and time. Partitioned by day of receipt like
-- events (metrics_pYYYYMMDD, created by the sink), with a retention of their own. Rows are unique by id,
-- and written with the group's offsets in one transaction, exactly once like events.
create table if not exists metrics (
    id              text             not null,         -- ULID minted at the edge
    received_at     timestamptz      not null,         -- edge clock: the scrape's start for scraped samples
    time            timestamptz      not null,         -- the sample's own timestamp when it had one, else received_at
    name            text             not null,         -- as exposed: node_network_receive_bytes_total, http_request_duration_seconds_bucket
    type            text             not null,         -- counter | gauge | histogram | summary | untyped | … (timer for HTTP timers)
    labels          jsonb            not null default '{}'::jsonb, -- the sample's labels, then job, instance and the target's own
    value           double precision not null,         -- NaN and ±Infinity as PostgreSQL keeps them
    tenant          text,
    edge            text,
    topic           text             not null,
    kafka_partition integer          not null,
    kafka_offset    bigint           not null,
    inserted_at     timestamptz      not null default now(),
    primary key (id, received_at)
) partition by range (received_at);

-- "this series, last hour": name, then time; filter labels with @> (e.g. labels @> '{"device":"eth0"}').
create index if not exists metrics_name_time on metrics (name, time desc);
