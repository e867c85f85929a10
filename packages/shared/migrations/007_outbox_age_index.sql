-- Every 2 s each allocator looks for outbox rows left behind (older than a few seconds) on its
-- partitions. By age, through this index, the look touches only old entries. Through
-- outbox_partition it walked every entry of those partitions, including the deleted rows a busy
-- queue table holds until VACUUM removes them: 324 ms per look with 246k of them.
CREATE INDEX outbox_created_at ON outbox (created_at);
