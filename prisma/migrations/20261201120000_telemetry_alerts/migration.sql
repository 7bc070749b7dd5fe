-- Telemetry and alerts (issue 11): a time-partitioned sample table with typed values, latest
-- values per (device, metric), alert rules with conditions, hysteresis, durations and severities,
-- an alert life cycle ACTIVE -> ACKNOWLEDGED -> CLEARED with at most one open alert per (rule,
-- device), and the per-(rule, device) evaluation state that makes threshold evaluation atomic.
--
-- Runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18): both support declarative range
-- partitioning, so the embedded default gets the same partitioned table. TimescaleDB is not used.
-- The tables replaced here held no production data yet.

-- =============================================================================================
-- Samples: range-partitioned by time, one partition per UTC day
-- =============================================================================================

DROP TABLE telemetry;

CREATE TABLE telemetry (
    tenant_id  TEXT             NOT NULL,
    device_id  TEXT             NOT NULL,
    metric     TEXT             NOT NULL
               CONSTRAINT telemetry_metric_format CHECK (metric ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    time       TIMESTAMPTZ      NOT NULL,
    -- Exactly one of the three holds the value. Numbers and booleans (as 0/1) feed aggregates and
    -- alert rules; NaN and infinities would poison every aggregate of a bucket.
    value_num  DOUBLE PRECISION
               CONSTRAINT telemetry_value_num_finite
               CHECK (value_num <> 'NaN'::float8 AND value_num <> 'Infinity'::float8 AND value_num <> '-Infinity'::float8),
    value_bool BOOLEAN,
    value_text TEXT
               CONSTRAINT telemetry_value_text_length CHECK (length(value_text) <= 1024),

    CONSTRAINT telemetry_one_value CHECK (num_nonnulls(value_num, value_bool, value_text) = 1),
    -- The partition key is part of every unique key of a partitioned table. The btree also serves
    -- history reads (device, metric, time range) and "latest first" by scanning backwards.
    CONSTRAINT telemetry_pkey PRIMARY KEY (tenant_id, device_id, metric, time),
    CONSTRAINT telemetry_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
) PARTITION BY RANGE (time);

-- A safety net, normally empty: a sample whose day has no partition yet is kept here instead of
-- failing its batch; creating that day's partition moves such rows over (telemetry_ensure_partitions).
CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;
-- Partitions are reached only through the parent (whose policies and grants apply). RLS without
-- policies on each partition denies direct access even if someone grants it later.
ALTER TABLE telemetry_default ENABLE ROW LEVEL SECURITY;

CREATE FUNCTION telemetry_partition_name(day date) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 'telemetry_p' || to_char(day, 'YYYYMMDD') $$;

-- Creates the daily partitions [first_day, last_day] that do not exist yet. The app role owns no
-- table, so partition DDL runs here, as the migration's role (SECURITY DEFINER), with fixed logic:
-- the only inputs are two dates. Each partition is built detached with a CHECK proving its range,
-- then attached: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, so ingest keeps writing
-- (CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE). Rows the default partition holds
-- for that day are moved in the same transaction.
CREATE FUNCTION telemetry_ensure_partitions(first_day date, last_day date)
    RETURNS TABLE (partition_name text, moved_rows bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    SET lock_timeout = '5s'
    AS $$
DECLARE
    day   date;
    name  text;
    lower timestamptz;
    upper timestamptz;
    moved bigint;
BEGIN
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day OR last_day - first_day > 400 THEN
        RAISE EXCEPTION 'telemetry_ensure_partitions: between 1 and 401 days, got % .. %', first_day, last_day;
    END IF;
    -- Instances run this concurrently; one at a time, the others then find the tables there.
    PERFORM pg_advisory_xact_lock(hashtext('pulse.telemetry.partitions'));
    FOR day IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
        name := telemetry_partition_name(day);
        CONTINUE WHEN to_regclass(name) IS NOT NULL;
        lower := day::timestamp AT TIME ZONE 'UTC';
        upper := (day + 1)::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE %I (LIKE telemetry INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (time >= %L AND time < %L)', name, name || '_range', lower, upper);
        EXECUTE format(
            'WITH moved AS (DELETE FROM telemetry_default WHERE time >= %L AND time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
            lower, upper, name);
        GET DIAGNOSTICS moved = ROW_COUNT;
        EXECUTE format('ALTER TABLE telemetry ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lower, upper);
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', name, name || '_range');
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        partition_name := name;
        moved_rows := moved;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Drops the daily partitions that lie wholly before the retention horizon: the start of the UTC
-- day `max_days` before `as_of`, where max_days is the longest retention any tenant has (its own
-- settings.telemetryRetentionDays, or `default_days` for tenants without one), at least 1. `as_of`
-- is clamped to the database clock, so no caller can drop data that is still inside retention.
-- Rows of the default partition past the horizon go too (at most `max_default_rows` per call).
CREATE FUNCTION telemetry_drop_partitions(as_of timestamptz, default_days int, max_default_rows int)
    RETURNS TABLE (partition_name text, horizon timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    SET lock_timeout = '5s'
    AS $$
DECLARE
    keep_days int;
    cutoff    timestamptz;
    part      record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('pulse.telemetry.partitions'));
    SELECT greatest(1, coalesce(default_days, 1), coalesce(max(floor((t.settings ->> 'telemetryRetentionDays')::numeric)::int), 1))
      INTO keep_days
      FROM tenants t
     WHERE jsonb_typeof(t.settings -> 'telemetryRetentionDays') = 'number';
    cutoff := ((least(as_of, now()) AT TIME ZONE 'UTC')::date - keep_days)::timestamp AT TIME ZONE 'UTC';
    FOR part IN
        SELECT c.relname
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'telemetry'::regclass AND c.relname ~ '^telemetry_p[0-9]{8}$'
           -- CASE: to_date must never see another table's name (AND does not fix evaluation order).
           AND CASE WHEN c.relname ~ '^telemetry_p[0-9]{8}$'
                    THEN ((to_date(substr(c.relname, 12), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC') <= cutoff END
         ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        partition_name := part.relname;
        horizon := cutoff;
        RETURN NEXT;
    END LOOP;
    DELETE FROM telemetry_default
     WHERE ctid = ANY (ARRAY(SELECT ctid FROM telemetry_default WHERE time < cutoff LIMIT greatest(1, max_default_rows)));
END
$$;

-- Today's neighbourhood exists from the start; the telemetry maintenance worker keeps creating
-- partitions ahead (and at every start-up).
SELECT telemetry_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 7, (now() AT TIME ZONE 'UTC')::date + 7);

-- =============================================================================================
-- Latest value per (device, metric): updated in the ingest transaction, so a page of devices with
-- their latest values is one statement (a relation join), never a scan of the samples.
-- =============================================================================================

CREATE TABLE telemetry_latest (
    tenant_id  TEXT             NOT NULL,
    device_id  TEXT             NOT NULL,
    metric     TEXT             NOT NULL,
    value_num  DOUBLE PRECISION
               CONSTRAINT telemetry_latest_value_num_finite
               CHECK (value_num <> 'NaN'::float8 AND value_num <> 'Infinity'::float8 AND value_num <> '-Infinity'::float8),
    value_bool BOOLEAN,
    value_text TEXT,
    -- The sample's time; a sample older than this never replaces the row.
    time       TIMESTAMPTZ      NOT NULL,
    updated_at TIMESTAMPTZ      NOT NULL DEFAULT now(),

    CONSTRAINT telemetry_latest_one_value CHECK (num_nonnulls(value_num, value_bool, value_text) = 1),
    CONSTRAINT telemetry_latest_pkey PRIMARY KEY (tenant_id, device_id, metric),
    CONSTRAINT telemetry_latest_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- =============================================================================================
-- Alert rules
-- =============================================================================================
--
-- kind 'threshold' watches a metric: condition above | below (threshold, clear_threshold) or
-- outside | inside (range_low, range_high, hysteresis), optionally for a duration (for_seconds or
-- for_samples consecutive breaching samples). 'offline' raises when a device has been OFFLINE for
-- for_seconds; 'twin_not_converged' when a desired change has not been reported back within
-- for_seconds.

ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_clear_threshold_side;
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_operator_check;
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_severity_check;
ALTER TABLE alert_rules DROP COLUMN operator;
DROP INDEX idx_alert_rules_metric;

ALTER TABLE alert_rules
    ADD COLUMN kind        TEXT NOT NULL DEFAULT 'threshold'
                           CONSTRAINT alert_rules_kind_check CHECK (kind IN ('threshold', 'offline', 'twin_not_converged')),
    ADD COLUMN condition   TEXT
                           CONSTRAINT alert_rules_condition_check CHECK (condition IN ('above', 'below', 'outside', 'inside')),
    ADD COLUMN range_low   DOUBLE PRECISION,
    ADD COLUMN range_high  DOUBLE PRECISION,
    ADD COLUMN hysteresis  DOUBLE PRECISION
                           CONSTRAINT alert_rules_hysteresis_nonnegative CHECK (hysteresis >= 0),
    ADD COLUMN for_seconds INT
                           CONSTRAINT alert_rules_for_seconds_positive CHECK (for_seconds > 0),
    ADD COLUMN for_samples INT
                           CONSTRAINT alert_rules_for_samples_positive CHECK (for_samples > 0),
    ALTER COLUMN metric DROP NOT NULL,
    ALTER COLUMN threshold DROP NOT NULL,
    ADD CONSTRAINT alert_rules_severity_check CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
    ADD CONSTRAINT alert_rules_name_length CHECK (length(name) BETWEEN 1 AND 200),
    ADD CONSTRAINT alert_rules_one_duration CHECK (for_seconds IS NULL OR for_samples IS NULL),
    -- Each kind carries exactly the columns it uses, so a rule can never be half of two kinds.
    ADD CONSTRAINT alert_rules_kind_shape CHECK (
        CASE kind
            WHEN 'threshold' THEN metric IS NOT NULL AND condition IS NOT NULL
            ELSE metric IS NULL AND condition IS NULL AND threshold IS NULL AND clear_threshold IS NULL
                 AND range_low IS NULL AND range_high IS NULL AND hysteresis IS NULL
                 AND for_seconds IS NOT NULL AND for_samples IS NULL
        END),
    ADD CONSTRAINT alert_rules_condition_shape CHECK (
        condition IS NULL
        OR (condition IN ('above', 'below') AND threshold IS NOT NULL AND range_low IS NULL AND range_high IS NULL AND hysteresis IS NULL)
        OR (condition IN ('outside', 'inside') AND range_low IS NOT NULL AND range_high IS NOT NULL AND range_low < range_high
            AND threshold IS NULL AND clear_threshold IS NULL)),
    -- Hysteresis sits on the healthy side, or an alert would clear while still breaching (or
    -- never clear): below an ABOVE threshold, above a BELOW one, and an OUTSIDE band's clear zone
    -- [low + h, high - h] must not be empty.
    ADD CONSTRAINT alert_rules_clear_threshold_side CHECK (
        clear_threshold IS NULL
        OR (condition = 'above' AND clear_threshold <= threshold)
        OR (condition = 'below' AND clear_threshold >= threshold)),
    ADD CONSTRAINT alert_rules_hysteresis_band CHECK (
        hysteresis IS NULL OR condition <> 'outside' OR 2 * hysteresis <= range_high - range_low);

-- Ingest looks up the enabled threshold rules of each incoming metric.
CREATE INDEX idx_alert_rules_metric ON alert_rules (tenant_id, metric) WHERE enabled AND kind = 'threshold';
-- The evaluator looks up the enabled time-based rules of every tenant.
CREATE INDEX idx_alert_rules_timed ON alert_rules (kind) WHERE enabled AND kind <> 'threshold';
CREATE INDEX idx_alert_rules_device ON alert_rules (tenant_id, device_id) WHERE device_id IS NOT NULL;
CREATE INDEX idx_alert_rules_group ON alert_rules (tenant_id, group_id) WHERE group_id IS NOT NULL;

-- =============================================================================================
-- Alerts: ACTIVE -> ACKNOWLEDGED -> CLEARED (or ACTIVE -> CLEARED)
-- =============================================================================================

DROP INDEX uq_alerts_open;
ALTER TABLE alerts DROP CONSTRAINT alerts_cleared_has_time;
ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts DROP COLUMN status;

ALTER TABLE alerts
    ADD COLUMN state            TEXT NOT NULL DEFAULT 'active'
                                CONSTRAINT alerts_state_check CHECK (state IN ('active', 'acknowledged', 'cleared')),
    ADD COLUMN severity         TEXT NOT NULL
                                CONSTRAINT alerts_severity_check CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
    ADD COLUMN peak_value       DOUBLE PRECISION,
    ADD COLUMN peak_at          TIMESTAMPTZ,
    ADD COLUMN acknowledged_at  TIMESTAMPTZ,
    ADD COLUMN acknowledged_by  TEXT,
    ADD COLUMN acknowledge_note TEXT
                                CONSTRAINT alerts_acknowledge_note_length CHECK (length(acknowledge_note) <= 1000),
    ADD COLUMN clear_reason     TEXT
                                CONSTRAINT alerts_clear_reason_check CHECK (clear_reason IN ('condition', 'manual')),
    ADD COLUMN clear_value      DOUBLE PRECISION,
    ADD COLUMN cleared_by       TEXT,
    ADD COLUMN clear_note       TEXT
                                CONSTRAINT alerts_clear_note_length CHECK (length(clear_note) <= 1000),
    -- Kind-specific facts: the band of a range rule, since when a device was offline, the desired
    -- version that did not converge.
    ADD COLUMN details          JSONB NOT NULL DEFAULT '{}'
                                CONSTRAINT alerts_details_object CHECK (jsonb_typeof(details) = 'object'),
    ADD COLUMN updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Offline and twin alerts carry no metric value.
    ALTER COLUMN metric DROP NOT NULL,
    ALTER COLUMN value DROP NOT NULL,
    ALTER COLUMN threshold DROP NOT NULL,
    ADD CONSTRAINT alerts_cleared_has_time CHECK ((state = 'cleared') = (cleared_at IS NOT NULL)),
    ADD CONSTRAINT alerts_cleared_has_reason CHECK ((state = 'cleared') = (clear_reason IS NOT NULL)),
    ADD CONSTRAINT alerts_acknowledged_has_time CHECK (state <> 'acknowledged' OR acknowledged_at IS NOT NULL);

-- At most one open (ACTIVE or ACKNOWLEDGED) alert per rule and device, whoever raises it: two
-- ingest instances evaluating the same breach concurrently raise one alert, not two.
CREATE UNIQUE INDEX uq_alerts_open ON alerts (tenant_id, rule_id, device_id) WHERE state IN ('active', 'acknowledged');
-- Query.alerts lists a tenant's alerts newest first.
CREATE INDEX idx_alerts_tenant_time ON alerts (tenant_id, raised_at DESC);

CREATE TRIGGER trg_alerts_updated_at BEFORE UPDATE ON alerts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- =============================================================================================
-- Threshold evaluation state per (rule, device): the row ingest locks before it evaluates, so
-- concurrent batches for one device evaluate one after the other; it carries the pending breach
-- (since when, how many samples) that duration rules count, the newest sample evaluated (a
-- redelivered or out-of-order sample is never evaluated twice or after a newer one), and the
-- open alert.
-- =============================================================================================

CREATE TABLE alert_rule_states (
    tenant_id      TEXT        NOT NULL,
    rule_id        TEXT        NOT NULL,
    device_id      TEXT        NOT NULL,
    breach_since   TIMESTAMPTZ,
    breach_samples INT         NOT NULL DEFAULT 0
                   CONSTRAINT alert_rule_states_breach_samples_nonnegative CHECK (breach_samples >= 0),
    last_sample_at TIMESTAMPTZ,
    -- The open alert of this (rule, device) and its peak, kept here so that evaluation reads
    -- everything it needs from the one row it locks. Whoever opens or closes a threshold alert
    -- updates it in the same transaction, having locked this row first.
    open_alert_id  TEXT,
    open_peak      DOUBLE PRECISION,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT alert_rule_states_pkey PRIMARY KEY (tenant_id, rule_id, device_id),
    CONSTRAINT alert_rule_states_tenant_id_rule_id_fkey FOREIGN KEY (tenant_id, rule_id)
        REFERENCES alert_rules (tenant_id, rule_id) ON DELETE CASCADE,
    CONSTRAINT alert_rule_states_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- The device-side cascade.
CREATE INDEX idx_alert_rule_states_device ON alert_rule_states (tenant_id, device_id);

-- =============================================================================================
-- Row-level security and privileges (the three policies of every tenant table)
-- =============================================================================================

ALTER TABLE telemetry ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry FORCE ROW LEVEL SECURITY;
CREATE POLICY telemetry_tenant_isolation ON telemetry
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY telemetry_operator_read ON telemetry
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY telemetry_service ON telemetry
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE telemetry_latest ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_latest FORCE ROW LEVEL SECURITY;
CREATE POLICY telemetry_latest_tenant_isolation ON telemetry_latest
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY telemetry_latest_operator_read ON telemetry_latest
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY telemetry_latest_service ON telemetry_latest
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE alert_rule_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_rule_states FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_rule_states_tenant_isolation ON alert_rule_states
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY alert_rule_states_operator_read ON alert_rule_states
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY alert_rule_states_service ON alert_rule_states
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

-- Samples are appended and aged out, never rewritten.
GRANT SELECT, INSERT, DELETE ON telemetry TO pulse_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON telemetry_latest, alert_rule_states TO pulse_app;

-- Functions are executable by PUBLIC by default; the partition DDL is for the app role only.
REVOKE ALL ON FUNCTION telemetry_ensure_partitions(date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION telemetry_drop_partitions(timestamptz, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION telemetry_ensure_partitions(date, date) TO pulse_app;
GRANT EXECUTE ON FUNCTION telemetry_drop_partitions(timestamptz, int, int) TO pulse_app;
