-- Where each consumer group stands per partition, for sinks whose progress commits in the same
-- transaction as their data (exactly-once effect). next_offset is the next record to read.
create table if not exists consumer_offsets (
    group_id    text        not null,
    topic       text        not null,
    partition   integer     not null,
    next_offset bigint      not null check (next_offset >= 0),
    updated_at  timestamptz not null default now(),
    primary key (group_id, topic, partition)
);
