-- Pulse initial schema.
--
-- Hand-written in Prisma's migration layout: Prisma has no syntax for CHECK constraints, partial
-- indexes, row-level security, triggers or roles. prisma/schema.prisma mirrors every table, column,
-- default, unique and relation here; keep the two in agreement.
--
-- The file runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18 in WASM), as one simple
-- query (one transaction) from the project's runner, or statement by statement from psql. It uses
-- no extensions: gen_random_uuid() is core since PostgreSQL 13.

-- =============================================================================================
-- Helpers
-- =============================================================================================

-- A transaction-local set_config(..., true) reads back as '' (not NULL) once the transaction has
-- ended on a pooled connection. NULLIF turns "unset" and "reset" alike into NULL, and NULL never
-- equals a tenant_id, so a forgotten set_config fails closed (no rows) instead of matching ''.
-- LANGUAGE sql + STABLE lets the planner inline these into each policy expression.
CREATE FUNCTION app_tenant_id() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '') $$;

CREATE FUNCTION app_role() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.role', true), '') $$;

-- One function for every table's updated_at, so the column means "last written" whichever client
-- (Prisma, raw SQL, an operator in psql) wrote the row.
CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- =============================================================================================
-- Application role
-- =============================================================================================

-- Roles are cluster-wide while this migration runs per database, and test databases on one cluster
-- migrate concurrently. The existence check avoids the error in the common case; the handler covers
-- the race: a concurrent CREATE ROLE waits for the other transaction and then fails with
-- unique_violation (pg_authid's index) or duplicate_object, both of which mean "already there".
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_app') THEN
        CREATE ROLE pulse_app NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

-- =============================================================================================
-- Tenants and sites
-- =============================================================================================

CREATE TABLE tenants (
    -- Tenant and device IDs become MQTT topic levels (pulse/{tenantId}/{deviceId}/...): a '/', '+'
    -- or '#' would let one device's topics alias or wildcard another's, so they are refused here.
    tenant_id   TEXT        NOT NULL
                CONSTRAINT tenants_tenant_id_format CHECK (tenant_id ~ '^[^/+#[:space:][:cntrl:]]{1,128}$'),
    name        TEXT        NOT NULL,
    -- Tenant-wide options, e.g. {"presence": {"staleAfterSeconds": 90, "offlineAfterSeconds": 300}};
    -- device_state's per-device overrides win over these, the app's defaults lose to them.
    settings    JSONB       NOT NULL DEFAULT '{}'
                CONSTRAINT tenants_settings_object CHECK (jsonb_typeof(settings) = 'object'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT tenants_pkey PRIMARY KEY (tenant_id)
);

CREATE TABLE sites (
    tenant_id   TEXT        NOT NULL,
    site_id     TEXT        NOT NULL,
    name        TEXT        NOT NULL,
    address     TEXT,
    latitude    DOUBLE PRECISION
                CONSTRAINT sites_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    longitude   DOUBLE PRECISION
                CONSTRAINT sites_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    metadata    JSONB       NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT sites_pkey PRIMARY KEY (tenant_id, site_id),
    CONSTRAINT sites_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE
);

-- =============================================================================================
-- Devices
-- =============================================================================================

CREATE TABLE device_registry (
    tenant_id         TEXT        NOT NULL,
    device_id         TEXT        NOT NULL
                      CONSTRAINT device_registry_device_id_format
                      CHECK (device_id ~ '^[^/+#[:space:][:cntrl:]]{1,128}$'),
    name              TEXT        NOT NULL,
    site_id           TEXT,
    model             TEXT,
    firmware_version  TEXT,
    serial_number     TEXT,
    iccid             TEXT,
    metadata          JSONB       NOT NULL DEFAULT '{}',
    -- Soft delete: history (commands, connectivity log, telemetry) must outlive decommissioning.
    decommissioned_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_registry_pkey PRIMARY KEY (tenant_id, device_id),
    CONSTRAINT device_registry_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    -- The column list matters: a plain SET NULL would also null tenant_id (NOT NULL, and part of
    -- the primary key). PostgreSQL 15+ supports nulling only site_id.
    CONSTRAINT device_registry_tenant_id_site_id_fkey FOREIGN KEY (tenant_id, site_id)
        REFERENCES sites (tenant_id, site_id) ON DELETE SET NULL (site_id)
);

CREATE INDEX idx_device_registry_site ON device_registry (tenant_id, site_id);

CREATE TABLE device_state (
    tenant_id             TEXT        NOT NULL,
    device_id             TEXT        NOT NULL,
    status                TEXT        NOT NULL DEFAULT 'OFFLINE'
                          CONSTRAINT device_state_status_check CHECK (status IN ('ONLINE', 'STALE', 'OFFLINE')),
    last_seen_at          TIMESTAMPTZ,
    last_heartbeat_at     TIMESTAMPTZ,
    status_changed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Fencing: an LWT or disconnect from an older MQTT session must not mark a device offline that
    -- has already reconnected, so transitions compare the session they belong to.
    session_id            TEXT,
    session_started_at    TIMESTAMPTZ,
    -- Per-device presence overrides; NULL falls back to tenants.settings, then app defaults.
    stale_after_seconds   INT
                          CONSTRAINT device_state_stale_after_positive CHECK (stale_after_seconds > 0),
    offline_after_seconds INT
                          CONSTRAINT device_state_offline_after_positive CHECK (offline_after_seconds > 0),
    -- Twin. Documents are JSON objects (RFC 7396 merge patches only apply to objects); versions
    -- only grow and back the ETag / If-Match check done in a single conditional UPDATE.
    desired_state         JSONB       NOT NULL DEFAULT '{}'
                          CONSTRAINT device_state_desired_state_object CHECK (jsonb_typeof(desired_state) = 'object'),
    reported_state        JSONB       NOT NULL DEFAULT '{}'
                          CONSTRAINT device_state_reported_state_object CHECK (jsonb_typeof(reported_state) = 'object'),
    desired_version       INT         NOT NULL DEFAULT 0
                          CONSTRAINT device_state_desired_version_nonnegative CHECK (desired_version >= 0),
    reported_version      INT         NOT NULL DEFAULT 0
                          CONSTRAINT device_state_reported_version_nonnegative CHECK (reported_version >= 0),
    -- Same shape as the documents, leaves are the ISO timestamps of each key's last write.
    desired_metadata      JSONB       NOT NULL DEFAULT '{}',
    reported_metadata     JSONB       NOT NULL DEFAULT '{}',
    desired_updated_at    TIMESTAMPTZ,
    reported_updated_at   TIMESTAMPTZ,
    shadow_updated_at     TIMESTAMPTZ,
    latest_metrics        JSONB       NOT NULL DEFAULT '{}',
    latest_metrics_at     TIMESTAMPTZ,

    CONSTRAINT device_state_pkey PRIMARY KEY (tenant_id, device_id),
    CONSTRAINT device_state_presence_order CHECK (
        stale_after_seconds IS NULL OR offline_after_seconds IS NULL
        OR offline_after_seconds > stale_after_seconds),
    CONSTRAINT device_state_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- Status filters and dynamic groups within a tenant.
CREATE INDEX idx_device_state_status ON device_state (tenant_id, status);
-- The heartbeat-timeout evaluator scans every tenant for devices not yet OFFLINE; OFFLINE is the
-- resting state of most devices, so leaving it out keeps this index small.
CREATE INDEX idx_device_state_presence ON device_state (last_seen_at) WHERE status <> 'OFFLINE';

CREATE TABLE device_tags (
    tenant_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    key       TEXT NOT NULL
              CONSTRAINT device_tags_key_length CHECK (length(key) BETWEEN 1 AND 128),
    value     TEXT NOT NULL
              CONSTRAINT device_tags_value_length CHECK (length(value) <= 1024),

    CONSTRAINT device_tags_pkey PRIMARY KEY (tenant_id, device_id, key),
    CONSTRAINT device_tags_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- "Devices tagged k=v" (lists, dynamic groups) without touching device rows.
CREATE INDEX idx_device_tags_key_value ON device_tags (tenant_id, key, value);

CREATE TABLE device_credentials (
    id            BIGSERIAL   NOT NULL,
    tenant_id     TEXT        NOT NULL,
    device_id     TEXT        NOT NULL,
    -- Globally unique: the broker's CONNECT carries only username/password, before any tenant is
    -- known, so the username alone must identify the device.
    username      TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    rotated_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,

    CONSTRAINT device_credentials_pkey PRIMARY KEY (id),
    CONSTRAINT device_credentials_username_key UNIQUE (username),
    CONSTRAINT device_credentials_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

CREATE INDEX idx_device_credentials_device ON device_credentials (tenant_id, device_id);
-- Rotation keeps revoked rows for audit, but two live credentials would leave a leaked password
-- valid after a rotation.
CREATE UNIQUE INDEX uq_device_credentials_active ON device_credentials (tenant_id, device_id)
    WHERE revoked_at IS NULL;

CREATE TABLE device_twin_history (
    id         BIGSERIAL   NOT NULL,
    tenant_id  TEXT        NOT NULL,
    device_id  TEXT        NOT NULL,
    direction  TEXT        NOT NULL
               CONSTRAINT device_twin_history_direction_check CHECK (direction IN ('desired', 'reported')),
    version    INT         NOT NULL
               CONSTRAINT device_twin_history_version_nonnegative CHECK (version >= 0),
    patch      JSONB       NOT NULL,
    document   JSONB       NOT NULL,
    actor_type TEXT        NOT NULL
               CONSTRAINT device_twin_history_actor_type_check CHECK (actor_type IN ('user', 'device', 'service')),
    actor_id   TEXT,
    mode       TEXT        NOT NULL DEFAULT 'merge'
               CONSTRAINT device_twin_history_mode_check CHECK (mode IN ('merge', 'replace')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_twin_history_pkey PRIMARY KEY (id),
    -- One row per version: a second writer that slipped past the version check cannot record a
    -- competing history for the same version.
    CONSTRAINT device_twin_history_tenant_id_device_id_direction_version_key
        UNIQUE (tenant_id, device_id, direction, version),
    CONSTRAINT device_twin_history_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

CREATE INDEX idx_device_twin_history_device_time
    ON device_twin_history (tenant_id, device_id, created_at DESC);

-- =============================================================================================
-- Connectivity
-- =============================================================================================

-- Seed 000, column for column. The added checks keep the data plan arithmetic meaningful
-- (a cycle start past 28 does not exist in February; negative megabytes are sync bugs).
CREATE TABLE device_connections (
    id                   SERIAL PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    device_id            TEXT NOT NULL,

    connection_type      TEXT NOT NULL DEFAULT 'cellular'
                         CHECK (connection_type IN ('cellular', 'ethernet', 'wifi', 'lora', 'satellite', 'other')),

    carrier_name         TEXT,
    carrier_account_id   TEXT,
    plan_name            TEXT,
    apn                  TEXT,

    -- May duplicate device_registry.iccid until a carrier integration makes this the authority.
    sim_iccid            TEXT,
    sim_status           TEXT DEFAULT 'active'
                         CHECK (sim_status IN ('active', 'suspended', 'deactivated', 'ready', 'unknown')),

    -- NULL means unlimited.
    data_limit_mb        INT
                         CONSTRAINT device_connections_data_limit_mb_nonnegative CHECK (data_limit_mb >= 0),
    billing_cycle_start  INT DEFAULT 1
                         CONSTRAINT device_connections_billing_cycle_start_range CHECK (billing_cycle_start BETWEEN 1 AND 28),
    -- A cached figure synced from the carrier API; data_used_updated_at says how stale it is.
    data_used_mb         NUMERIC DEFAULT 0
                         CONSTRAINT device_connections_data_used_mb_nonnegative CHECK (data_used_mb >= 0),
    data_used_updated_at TIMESTAMPTZ,

    ip_address           INET,
    msisdn               TEXT,

    network_status       TEXT DEFAULT 'unknown'
                         CHECK (network_status IN ('connected', 'disconnected', 'suspended', 'unknown')),
    last_network_attach  TIMESTAMPTZ,
    last_network_detach  TIMESTAMPTZ,

    -- Carrier-specific data without schema changes.
    metadata             JSONB NOT NULL DEFAULT '{}',
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),

    -- One connection per device.
    CONSTRAINT device_connections_tenant_id_device_id_key UNIQUE (tenant_id, device_id),
    CONSTRAINT device_connections_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

CREATE INDEX idx_device_connections_tenant ON device_connections (tenant_id);
CREATE INDEX idx_device_connections_carrier ON device_connections (tenant_id, carrier_name)
    WHERE carrier_name IS NOT NULL;
CREATE INDEX idx_device_connections_status ON device_connections (tenant_id, network_status);
-- Not tenant-scoped on purpose: carrier webhooks arrive with only an ICCID.
CREATE INDEX idx_device_connections_sim ON device_connections (sim_iccid)
    WHERE sim_iccid IS NOT NULL;

-- The connectivity log is evidence ("was it online at 03:12?"), so rows are never rewritten.
--
-- Deletion: decommissioning is a soft delete, so the only legitimate DELETE is the cascade of a
-- hard-deleted device (or tenant). We keep the foreign key (ON DELETE CASCADE) rather than drop it:
-- without it events could name devices that never existed, and a hard delete would leave orphans
-- that no RLS-scoped reader could ever clean up. The trigger below therefore allows a DELETE only
-- when the parent device row is already gone, which is exactly the cascade case, because the
-- referential action runs after the parent row is deleted.
CREATE TABLE device_connection_events (
    id              BIGSERIAL   NOT NULL,
    tenant_id       TEXT        NOT NULL,
    device_id       TEXT        NOT NULL,
    event_type      TEXT        NOT NULL
                    CONSTRAINT device_connection_events_event_type_check
                    CHECK (event_type IN ('CONNECTED', 'DISCONNECTED')),
    reason          TEXT        NOT NULL,
    previous_status TEXT
                    CONSTRAINT device_connection_events_previous_status_check
                    CHECK (previous_status IN ('ONLINE', 'STALE', 'OFFLINE')),
    new_status      TEXT        NOT NULL
                    CONSTRAINT device_connection_events_new_status_check
                    CHECK (new_status IN ('ONLINE', 'STALE', 'OFFLINE')),
    session_id      TEXT,
    details         JSONB       NOT NULL DEFAULT '{}',
    occurred_at     TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_connection_events_pkey PRIMARY KEY (id),
    -- A CONNECTED event that leaves the device STALE (or a DISCONNECTED one that leaves it ONLINE)
    -- would make the timeline contradict device_state.
    CONSTRAINT device_connection_events_type_matches_status
        CHECK ((event_type = 'CONNECTED') = (new_status = 'ONLINE')),
    CONSTRAINT device_connection_events_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

CREATE INDEX idx_device_connection_events_device_time
    ON device_connection_events (tenant_id, device_id, occurred_at DESC);

-- Grants alone would not stop the table owner or a superuser; the trigger makes append-only a
-- property of the data. Under RLS the parent lookup sees the device whenever the caller can see the
-- event (both tables have the same policies), so a visible parent always blocks the delete.
CREATE FUNCTION device_connection_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (
        SELECT 1 FROM device_registry d
        WHERE d.tenant_id = OLD.tenant_id AND d.device_id = OLD.device_id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'device_connection_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Connectivity events are removed only when their device is deleted.';
END
$$;

CREATE TRIGGER trg_device_connection_events_append_only
    BEFORE UPDATE OR DELETE ON device_connection_events
    FOR EACH ROW EXECUTE FUNCTION device_connection_events_append_only();

-- =============================================================================================
-- Groups (before commands and alert rules, which can target a group)
-- =============================================================================================

CREATE TABLE device_groups (
    tenant_id    TEXT        NOT NULL,
    group_id     TEXT        NOT NULL DEFAULT gen_random_uuid()::text,
    name         TEXT        NOT NULL,
    description  TEXT,
    group_type   TEXT        NOT NULL DEFAULT 'static'
                 CONSTRAINT device_groups_group_type_check CHECK (group_type IN ('static', 'dynamic')),
    query_filter JSONB
                 CONSTRAINT device_groups_query_filter_object CHECK (jsonb_typeof(query_filter) = 'object'),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_groups_pkey PRIMARY KEY (tenant_id, group_id),
    CONSTRAINT device_groups_tenant_id_name_key UNIQUE (tenant_id, name),
    -- A dynamic group without a filter would have no members; a static one with a filter would
    -- be ambiguous about which membership counts.
    CONSTRAINT device_groups_filter_matches_type
        CHECK ((group_type = 'dynamic') = (query_filter IS NOT NULL)),
    CONSTRAINT device_groups_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE
);

-- Members of static groups (dynamic groups resolve theirs from query_filter at read time).
CREATE TABLE device_group_members (
    tenant_id TEXT        NOT NULL,
    group_id  TEXT        NOT NULL,
    device_id TEXT        NOT NULL,
    added_at  TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_group_members_pkey PRIMARY KEY (tenant_id, group_id, device_id),
    CONSTRAINT device_group_members_tenant_id_group_id_fkey FOREIGN KEY (tenant_id, group_id)
        REFERENCES device_groups (tenant_id, group_id) ON DELETE CASCADE,
    CONSTRAINT device_group_members_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- "Groups of this device", and the cascade when a device is deleted.
CREATE INDEX idx_device_group_members_device ON device_group_members (tenant_id, device_id);

-- =============================================================================================
-- Commands
-- =============================================================================================

-- Seed 001 plus the sent/failed life cycle. Rows are never removed by the workers: a command's
-- history is what support looks at when "the reboot didn't happen".
CREATE TABLE device_commands (
    command_id     TEXT        NOT NULL DEFAULT gen_random_uuid()::text,
    tenant_id      TEXT        NOT NULL,
    device_id      TEXT        NOT NULL,

    command_type   TEXT        NOT NULL,
    command_params JSONB       NOT NULL DEFAULT '{}',

    status         TEXT        NOT NULL DEFAULT 'queued'
                   CONSTRAINT device_commands_status_check
                   CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'expired', 'missed')),

    published_at   TIMESTAMPTZ,
    sent_at        TIMESTAMPTZ,
    acked_at       TIMESTAMPTZ,
    ack_details    JSONB,
    delivered_at   TIMESTAMPTZ,
    failed_at      TIMESTAMPTZ,
    error          TEXT,
    attempts       INT         NOT NULL DEFAULT 0
                   CONSTRAINT device_commands_attempts_nonnegative CHECK (attempts >= 0),

    ttl_seconds    INT         NOT NULL DEFAULT 3600
                   CONSTRAINT device_commands_ttl_seconds_positive CHECK (ttl_seconds > 0),
    expires_at     TIMESTAMPTZ NOT NULL DEFAULT (now() + INTERVAL '1 hour'),

    group_id       TEXT,
    created_by     TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_commands_pkey PRIMARY KEY (tenant_id, command_id),
    -- Terminal outcomes carry their time, so "when did it fail" never needs a guess.
    CONSTRAINT device_commands_delivered_has_time CHECK (status <> 'delivered' OR delivered_at IS NOT NULL),
    CONSTRAINT device_commands_failed_has_time CHECK (status <> 'failed' OR failed_at IS NOT NULL),
    CONSTRAINT device_commands_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    CONSTRAINT device_commands_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE,
    -- Deleting a group must not erase what was sent to its members.
    CONSTRAINT device_commands_tenant_id_group_id_fkey FOREIGN KEY (tenant_id, group_id)
        REFERENCES device_groups (tenant_id, group_id) ON DELETE SET NULL (group_id)
);

-- Pending work per device: queued commands are published on reconnect; sent ones await an ack.
CREATE INDEX idx_device_commands_device_queued
    ON device_commands (tenant_id, device_id, status)
    WHERE status IN ('queued', 'sent');

-- TTL worker across all tenants: queued past expiry -> expired, sent past expiry -> missed.
CREATE INDEX idx_device_commands_expires
    ON device_commands (expires_at)
    WHERE status IN ('queued', 'sent');

CREATE INDEX idx_device_commands_device_history
    ON device_commands (tenant_id, device_id, created_at DESC);

CREATE INDEX idx_device_commands_group
    ON device_commands (tenant_id, group_id)
    WHERE group_id IS NOT NULL;

-- =============================================================================================
-- Interfaces and wireless links
-- =============================================================================================

CREATE TABLE device_interfaces (
    id             UUID        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id      TEXT        NOT NULL,
    device_id      TEXT        NOT NULL,
    name           TEXT        NOT NULL,
    -- One canonical spelling, so a station MAC reported as 'AA-BB-..' or 'aabb.cc..' by some AP
    -- resolves with a plain equality lookup once the app has normalised it.
    mac_address    TEXT        NOT NULL
                   CONSTRAINT device_interfaces_mac_address_format
                   CHECK (mac_address ~ '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$'),
    interface_type TEXT        NOT NULL DEFAULT 'other'
                   CONSTRAINT device_interfaces_interface_type_check
                   CHECK (interface_type IN ('ethernet', 'wifi', 'cellular', 'virtual', 'other')),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_interfaces_pkey PRIMARY KEY (id),
    -- Target of tenant-carrying foreign keys: a link can only name an interface of its own tenant,
    -- which RLS alone would not guarantee (foreign key checks bypass policies).
    CONSTRAINT device_interfaces_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT device_interfaces_tenant_id_device_id_name_key UNIQUE (tenant_id, device_id, name),
    -- A MAC must resolve to exactly one device. This unique index is also the MAC lookup index
    -- (seed 003's separate non-unique index on the same columns would only duplicate it).
    CONSTRAINT device_interfaces_tenant_id_mac_address_key UNIQUE (tenant_id, mac_address),
    CONSTRAINT device_interfaces_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

CREATE TABLE wireless_links (
    id               UUID        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id        TEXT        NOT NULL,
    ap_device_id     TEXT        NOT NULL,
    ap_interface_id  UUID,
    -- Nullable: the link is identified by (AP, station MAC); the CPE device may be deleted and
    -- re-registered while the radio link itself carries on.
    cpe_device_id    TEXT,
    cpe_mac          TEXT        NOT NULL
                     CONSTRAINT wireless_links_cpe_mac_format
                     CHECK (cpe_mac ~ '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$'),
    state            TEXT        NOT NULL DEFAULT 'discovered'
                     CONSTRAINT wireless_links_state_check
                     CHECK (state IN ('discovered', 'active', 'degraded', 'down', 'stale')),
    missed_polls     INT         NOT NULL DEFAULT 0
                     CONSTRAINT wireless_links_missed_polls_nonnegative CHECK (missed_polls >= 0),
    signal_dbm       DOUBLE PRECISION,
    snr_db           DOUBLE PRECISION,
    tx_rate          DOUBLE PRECISION,
    rx_rate          DOUBLE PRECISION,
    ccq              DOUBLE PRECISION
                     CONSTRAINT wireless_links_ccq_range CHECK (ccq BETWEEN 0 AND 100),
    first_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    state_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT wireless_links_pkey PRIMARY KEY (id),
    CONSTRAINT wireless_links_tenant_id_id_key UNIQUE (tenant_id, id),
    -- Discovery upserts on this key each poll.
    CONSTRAINT wireless_links_tenant_id_ap_device_id_cpe_mac_key UNIQUE (tenant_id, ap_device_id, cpe_mac),
    -- A device's own MAC in its own registration table is a loop, not a link.
    CONSTRAINT wireless_links_not_self CHECK (cpe_device_id IS DISTINCT FROM ap_device_id),
    CONSTRAINT wireless_links_tenant_id_ap_device_id_fkey FOREIGN KEY (tenant_id, ap_device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE,
    CONSTRAINT wireless_links_tenant_id_ap_interface_id_fkey FOREIGN KEY (tenant_id, ap_interface_id)
        REFERENCES device_interfaces (tenant_id, id) ON DELETE SET NULL (ap_interface_id),
    CONSTRAINT wireless_links_tenant_id_cpe_device_id_fkey FOREIGN KEY (tenant_id, cpe_device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE SET NULL (cpe_device_id)
);

CREATE INDEX idx_wireless_links_cpe ON wireless_links (tenant_id, cpe_device_id);
CREATE INDEX idx_wireless_links_state ON wireless_links (tenant_id, state);

-- Every state change of a link, for its timeline and for replaying subscriptions' history.
CREATE TABLE wireless_link_events (
    id          BIGSERIAL   NOT NULL,
    tenant_id   TEXT        NOT NULL,
    link_id     UUID        NOT NULL,
    from_state  TEXT
                CONSTRAINT wireless_link_events_from_state_check
                CHECK (from_state IN ('discovered', 'active', 'degraded', 'down', 'stale')),
    to_state    TEXT        NOT NULL
                CONSTRAINT wireless_link_events_to_state_check
                CHECK (to_state IN ('discovered', 'active', 'degraded', 'down', 'stale')),
    reason      TEXT        NOT NULL,
    details     JSONB       NOT NULL DEFAULT '{}',
    occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT wireless_link_events_pkey PRIMARY KEY (id),
    -- An "event" without a change would be noise in the timeline and in subscriptions.
    CONSTRAINT wireless_link_events_is_change CHECK (from_state IS DISTINCT FROM to_state),
    CONSTRAINT wireless_link_events_tenant_id_link_id_fkey FOREIGN KEY (tenant_id, link_id)
        REFERENCES wireless_links (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_wireless_link_events_link_time
    ON wireless_link_events (tenant_id, link_id, occurred_at DESC);

-- Raw registrations as polled. Kept even when the station MAC resolves to no interface yet, so a
-- device registered later can be matched against what its AP already saw.
CREATE TABLE wireless_registrations (
    id                 BIGSERIAL   NOT NULL,
    tenant_id          TEXT        NOT NULL,
    ap_device_id       TEXT        NOT NULL,
    interface_name     TEXT,
    station_mac        TEXT        NOT NULL
                       CONSTRAINT wireless_registrations_station_mac_format
                       CHECK (station_mac ~ '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$'),
    resolved_device_id TEXT,
    signal_dbm         DOUBLE PRECISION,
    snr_db             DOUBLE PRECISION,
    tx_rate            DOUBLE PRECISION,
    rx_rate            DOUBLE PRECISION,
    ccq                DOUBLE PRECISION
                       CONSTRAINT wireless_registrations_ccq_range CHECK (ccq BETWEEN 0 AND 100),
    polled_at          TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT wireless_registrations_pkey PRIMARY KEY (id),
    CONSTRAINT wireless_registrations_tenant_id_ap_device_id_fkey FOREIGN KEY (tenant_id, ap_device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE,
    CONSTRAINT wireless_registrations_tenant_id_resolved_device_id_fkey FOREIGN KEY (tenant_id, resolved_device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE SET NULL (resolved_device_id)
);

CREATE INDEX idx_wireless_registrations_station_mac ON wireless_registrations (tenant_id, station_mac);
CREATE INDEX idx_wireless_registrations_ap_time
    ON wireless_registrations (tenant_id, ap_device_id, polled_at DESC);
-- Only resolved rows are ever looked up by device (and nulled when that device is deleted).
CREATE INDEX idx_wireless_registrations_resolved
    ON wireless_registrations (tenant_id, resolved_device_id)
    WHERE resolved_device_id IS NOT NULL;

-- =============================================================================================
-- Telemetry and alerts
-- =============================================================================================

CREATE TABLE telemetry (
    tenant_id TEXT             NOT NULL,
    device_id TEXT             NOT NULL,
    metric    TEXT             NOT NULL,
    -- NaN and infinities poison every aggregate of a time bucket and cannot be sent as JSON.
    value     DOUBLE PRECISION NOT NULL
              CONSTRAINT telemetry_value_finite
              CHECK (value <> 'NaN'::float8 AND value <> 'Infinity'::float8 AND value <> '-Infinity'::float8),
    time      TIMESTAMPTZ      NOT NULL,

    -- The primary key's btree also serves "latest first" reads by scanning backwards, so there is
    -- no separate (..., time DESC) index: on the highest-volume table it would double write cost.
    CONSTRAINT telemetry_pkey PRIMARY KEY (tenant_id, device_id, metric, time),
    CONSTRAINT telemetry_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

CREATE TABLE alert_rules (
    tenant_id       TEXT             NOT NULL,
    rule_id         TEXT             NOT NULL DEFAULT gen_random_uuid()::text,
    name            TEXT             NOT NULL,
    metric          TEXT             NOT NULL,
    operator        TEXT             NOT NULL
                    CONSTRAINT alert_rules_operator_check CHECK (operator IN ('gt', 'gte', 'lt', 'lte')),
    threshold       DOUBLE PRECISION NOT NULL,
    clear_threshold DOUBLE PRECISION,
    device_id       TEXT,
    group_id        TEXT,
    severity        TEXT             NOT NULL DEFAULT 'warning'
                    CONSTRAINT alert_rules_severity_check CHECK (severity IN ('info', 'warning', 'critical')),
    enabled         BOOLEAN          NOT NULL DEFAULT true,
    created_at      TIMESTAMPTZ      NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ      NOT NULL DEFAULT now(),

    CONSTRAINT alert_rules_pkey PRIMARY KEY (tenant_id, rule_id),
    -- Scope is one device, one group, or (both NULL) the whole tenant; both at once is ambiguous.
    CONSTRAINT alert_rules_single_scope CHECK (device_id IS NULL OR group_id IS NULL),
    -- Hysteresis must sit on the "healthy" side of the threshold, or an alert would clear while
    -- still breaching (or never clear at all).
    CONSTRAINT alert_rules_clear_threshold_side CHECK (
        clear_threshold IS NULL
        OR (operator IN ('gt', 'gte') AND clear_threshold <= threshold)
        OR (operator IN ('lt', 'lte') AND clear_threshold >= threshold)),
    CONSTRAINT alert_rules_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    -- A rule scoped to a deleted device or group is removed with it: SET NULL would silently widen
    -- it to the whole tenant.
    CONSTRAINT alert_rules_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE,
    CONSTRAINT alert_rules_tenant_id_group_id_fkey FOREIGN KEY (tenant_id, group_id)
        REFERENCES device_groups (tenant_id, group_id) ON DELETE CASCADE
);

-- Ingest looks up the rules of each incoming metric.
CREATE INDEX idx_alert_rules_metric ON alert_rules (tenant_id, metric);

CREATE TABLE alerts (
    tenant_id  TEXT             NOT NULL,
    alert_id   TEXT             NOT NULL DEFAULT gen_random_uuid()::text,
    rule_id    TEXT             NOT NULL,
    device_id  TEXT             NOT NULL,
    metric     TEXT             NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    threshold  DOUBLE PRECISION NOT NULL,
    status     TEXT             NOT NULL DEFAULT 'open'
               CONSTRAINT alerts_status_check CHECK (status IN ('open', 'cleared')),
    raised_at  TIMESTAMPTZ      NOT NULL DEFAULT now(),
    cleared_at TIMESTAMPTZ,

    CONSTRAINT alerts_pkey PRIMARY KEY (tenant_id, alert_id),
    CONSTRAINT alerts_cleared_has_time CHECK ((status = 'cleared') = (cleared_at IS NOT NULL)),
    CONSTRAINT alerts_tenant_id_rule_id_fkey FOREIGN KEY (tenant_id, rule_id)
        REFERENCES alert_rules (tenant_id, rule_id) ON DELETE CASCADE,
    CONSTRAINT alerts_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- Two ingest instances evaluating the same breach concurrently must raise one alert, not two:
-- INSERT ... ON CONFLICT DO NOTHING against this index makes raising idempotent.
CREATE UNIQUE INDEX uq_alerts_open ON alerts (tenant_id, rule_id, device_id) WHERE status = 'open';
CREATE INDEX idx_alerts_device_time ON alerts (tenant_id, device_id, raised_at DESC);
-- Deleting a rule cascades to its alerts; the partial index above cannot serve that lookup.
CREATE INDEX idx_alerts_rule ON alerts (tenant_id, rule_id);

-- Seed 004's key/value settings, made per tenant.
CREATE TABLE settings (
    tenant_id  TEXT        NOT NULL,
    key        TEXT        NOT NULL,
    value      JSONB       NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT settings_pkey PRIMARY KEY (tenant_id, key),
    CONSTRAINT settings_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE
);

-- =============================================================================================
-- updated_at triggers
-- =============================================================================================

CREATE TRIGGER trg_tenants_updated_at BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_sites_updated_at BEFORE UPDATE ON sites
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_device_registry_updated_at BEFORE UPDATE ON device_registry
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_device_connections_updated_at BEFORE UPDATE ON device_connections
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_device_groups_updated_at BEFORE UPDATE ON device_groups
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_device_interfaces_updated_at BEFORE UPDATE ON device_interfaces
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_wireless_links_updated_at BEFORE UPDATE ON wireless_links
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_alert_rules_updated_at BEFORE UPDATE ON alert_rules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trg_settings_updated_at BEFORE UPDATE ON settings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- =============================================================================================
-- Row-level security
-- =============================================================================================
--
-- Three permissive policies per table (OR-ed together):
--   <table>_tenant_isolation  rows of the tenant in app.tenant_id, read and write;
--   <table>_operator_read     app.role = 'operator' reads every tenant, writes nothing;
--   <table>_service           app.role = 'iot_service' (MQTT ingest, workers, broker auth) reads
--                             and writes every tenant.
-- Any other app.role (e.g. 'customer') gets only the tenant policy, so it never reaches another
-- tenant's rows. Both settings must be set with set_config(..., true) inside the transaction.
--
-- FORCE makes the policies bind the table owner too: the embedded database and simple deployments
-- connect as the role that ran the migrations, and "owner bypasses RLS" would silently turn tenant
-- isolation off there. Superusers and BYPASSRLS roles still bypass; the app must not use them
-- (PGlite's only user is a superuser, so it runs SET LOCAL ROLE pulse_app in each transaction).
--
-- Policies cannot drive an index through the OR; queries should still filter on tenant_id
-- themselves (Prisma's composite keys do) and let the policy be the safety net.

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_tenant_isolation ON tenants
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenants_operator_read ON tenants
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY tenants_service ON tenants
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE sites FORCE ROW LEVEL SECURITY;
CREATE POLICY sites_tenant_isolation ON sites
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY sites_operator_read ON sites
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY sites_service ON sites
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_registry ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_registry FORCE ROW LEVEL SECURITY;
CREATE POLICY device_registry_tenant_isolation ON device_registry
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_registry_operator_read ON device_registry
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_registry_service ON device_registry
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_state FORCE ROW LEVEL SECURITY;
CREATE POLICY device_state_tenant_isolation ON device_state
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_state_operator_read ON device_state
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_state_service ON device_state
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY device_tags_tenant_isolation ON device_tags
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_tags_operator_read ON device_tags
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_tags_service ON device_tags
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY device_credentials_tenant_isolation ON device_credentials
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_credentials_operator_read ON device_credentials
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_credentials_service ON device_credentials
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_twin_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_twin_history FORCE ROW LEVEL SECURITY;
CREATE POLICY device_twin_history_tenant_isolation ON device_twin_history
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_twin_history_operator_read ON device_twin_history
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_twin_history_service ON device_twin_history
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY device_connections_tenant_isolation ON device_connections
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_connections_operator_read ON device_connections
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_connections_service ON device_connections
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_connection_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_connection_events FORCE ROW LEVEL SECURITY;
CREATE POLICY device_connection_events_tenant_isolation ON device_connection_events
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_connection_events_operator_read ON device_connection_events
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_connection_events_service ON device_connection_events
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_groups FORCE ROW LEVEL SECURITY;
CREATE POLICY device_groups_tenant_isolation ON device_groups
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_groups_operator_read ON device_groups
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_groups_service ON device_groups
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_group_members FORCE ROW LEVEL SECURITY;
CREATE POLICY device_group_members_tenant_isolation ON device_group_members
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_group_members_operator_read ON device_group_members
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_group_members_service ON device_group_members
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_commands ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_commands FORCE ROW LEVEL SECURITY;
CREATE POLICY device_commands_tenant_isolation ON device_commands
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_commands_operator_read ON device_commands
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_commands_service ON device_commands
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_interfaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_interfaces FORCE ROW LEVEL SECURITY;
CREATE POLICY device_interfaces_tenant_isolation ON device_interfaces
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_interfaces_operator_read ON device_interfaces
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_interfaces_service ON device_interfaces
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE wireless_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE wireless_links FORCE ROW LEVEL SECURITY;
CREATE POLICY wireless_links_tenant_isolation ON wireless_links
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY wireless_links_operator_read ON wireless_links
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY wireless_links_service ON wireless_links
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE wireless_link_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE wireless_link_events FORCE ROW LEVEL SECURITY;
CREATE POLICY wireless_link_events_tenant_isolation ON wireless_link_events
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY wireless_link_events_operator_read ON wireless_link_events
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY wireless_link_events_service ON wireless_link_events
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE wireless_registrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE wireless_registrations FORCE ROW LEVEL SECURITY;
CREATE POLICY wireless_registrations_tenant_isolation ON wireless_registrations
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY wireless_registrations_operator_read ON wireless_registrations
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY wireless_registrations_service ON wireless_registrations
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE telemetry ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry FORCE ROW LEVEL SECURITY;
CREATE POLICY telemetry_tenant_isolation ON telemetry
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY telemetry_operator_read ON telemetry
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY telemetry_service ON telemetry
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE alert_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_rules_tenant_isolation ON alert_rules
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY alert_rules_operator_read ON alert_rules
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY alert_rules_service ON alert_rules
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY alerts_tenant_isolation ON alerts
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY alerts_operator_read ON alerts
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY alerts_service ON alerts
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE settings FORCE ROW LEVEL SECURITY;
CREATE POLICY settings_tenant_isolation ON settings
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY settings_operator_read ON settings
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY settings_service ON settings
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

-- =============================================================================================
-- Privileges for the application role
-- =============================================================================================
--
-- Tables are named one by one rather than "ALL TABLES IN SCHEMA public", which would also hand
-- the app write access to _prisma_migrations. Every later migration grants on the tables it adds.

GRANT USAGE ON SCHEMA public TO pulse_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON
    tenants, sites, device_registry, device_state, device_tags, device_credentials,
    device_connections, device_groups, device_group_members, device_commands,
    device_interfaces, wireless_links, wireless_registrations,
    telemetry, alert_rules, alerts, settings
    TO pulse_app;

-- Logs and audit trails: the app appends and reads, it never rewrites history.
GRANT SELECT, INSERT ON device_connection_events, wireless_link_events, device_twin_history TO pulse_app;

GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO pulse_app;

GRANT EXECUTE ON FUNCTION app_tenant_id(), app_role() TO pulse_app;
