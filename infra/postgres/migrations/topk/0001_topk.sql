-- The top-k aggregator's state (group topk by default). Every row names its consumer group, so several
-- groups (a backfill next to the live one) can share a database. A partition's rows here and its row in
-- consumer_offsets are written in one transaction: counts and consumed offsets never disagree.

-- Who owns a source partition now, and its event-time clock. epoch goes up by one on every assignment;
-- a checkpoint carrying an older epoch is from a member that lost the partition, and is refused.
create table if not exists topk_partitions (
    group_id   text        not null,
    topic      text        not null,
    partition  integer     not null,
    epoch      bigint      not null default 1,
    watermark  timestamptz,                      -- latest received_at counted from this partition
    updated_at timestamptz not null default now(),
    primary key (group_id, topic, partition)
);

-- Per partition and window size: every window ending at or before closed_through is closed for it.
create table if not exists topk_closed_through (
    group_id       text        not null,
    topic          text        not null,
    partition      integer     not null,
    granularity_s  integer     not null,
    closed_through timestamptz not null,
    primary key (group_id, topic, partition, granularity_s)
);

-- One Space-Saving sketch per window, dimension and source partition. While closed_at is null the row is
-- the partition's checkpoint of an open window; once set, the row is final. Answers merge the rows of
-- every partition at query time (counts and error bounds add up).
create table if not exists topk_windows (
    group_id      text        not null,
    granularity_s integer     not null,          -- window size: 60 (1m), 3600 (1h)
    window_start  timestamptz not null,
    dimension     text        not null,          -- host, app, severity, source_ip, template, tenant, payload.<f>
    topic         text        not null,
    partition     integer     not null,
    events        bigint      not null,          -- weighted events this partition counted into the window
    total         bigint      not null,          -- ... of which had a key in this dimension (the sketch's N)
    capacity      integer     not null,
    sketch        bytea       not null,          -- entries in heap order, see SketchCodec
    closed_at     timestamptz,
    published_at  timestamptz,                   -- when the merge including this row went to topic topk
    updated_at    timestamptz not null default now(),
    primary key (group_id, granularity_s, window_start, dimension, topic, partition)
);
create index if not exists topk_windows_open on topk_windows (group_id, topic, partition) where closed_at is null;
create index if not exists topk_windows_unpublished on topk_windows (group_id, window_start) where closed_at is not null and published_at is null;

-- Weighted events that arrived after their window had closed for their partition (counted, not folded in).
create table if not exists topk_late (
    group_id      text        not null,
    granularity_s integer     not null,
    window_start  timestamptz not null,
    topic         text        not null,
    partition     integer     not null,
    late_events   bigint      not null,
    primary key (group_id, granularity_s, window_start, topic, partition)
);
