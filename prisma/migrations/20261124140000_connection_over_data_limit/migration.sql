-- "Over its data limit" compares two columns of one row, which Prisma's `where` cannot express
-- (and data_used_mb is NUMERIC where data_limit_mb is INT). A stored generated column turns it
-- into a plain predicate the device list can filter on in SQL, with a partial index for the
-- dashboards that ask "which devices are over their plan".
ALTER TABLE device_connections
    ADD COLUMN over_data_limit BOOLEAN NOT NULL
    GENERATED ALWAYS AS (data_limit_mb IS NOT NULL AND COALESCE(data_used_mb, 0) > data_limit_mb) STORED;

CREATE INDEX idx_device_connections_over_limit ON device_connections (tenant_id) WHERE over_data_limit;
