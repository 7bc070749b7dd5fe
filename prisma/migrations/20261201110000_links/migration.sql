-- Wireless links (issue 10): AP radios polled over MQTT, links per AP radio and station, the link
-- state machine's counters, idempotent polls, unresolved registrations, per-tenant thresholds and
-- device maintenance windows.
--
-- Extends the tables of 20261124000000_init (device_interfaces, wireless_links,
-- wireless_link_events, wireless_registrations) and adds wireless_ap_polls,
-- wireless_link_settings and device_maintenance_windows. Runs on PostgreSQL 15+ and PGlite.

-- =============================================================================================
-- wireless_links: one link per AP radio (interface name as the AP reports it) and station MAC
-- =============================================================================================

ALTER TABLE wireless_links
    -- The radio as the AP names it in its polls; ap_interface_id points at the registered
    -- interface of that name when there is one (it may be registered later, or never).
    ADD COLUMN ap_interface_name TEXT,
    -- The CPE's interface whose MAC is cpe_mac, when one is registered.
    ADD COLUMN cpe_interface_id  UUID,
    ADD COLUMN noise_dbm         DOUBLE PRECISION,
    ADD COLUMN uptime_s          BIGINT
                                 CONSTRAINT wireless_links_uptime_nonnegative CHECK (uptime_s >= 0),
    -- Consecutive sightings with signal and SNR above the recover thresholds (confirmation, K).
    ADD COLUMN good_polls        INT NOT NULL DEFAULT 0
                                 CONSTRAINT wireless_links_good_polls_nonnegative CHECK (good_polls >= 0),
    -- The AP radio's poll that last looked at this link (listed it or counted it missing).
    ADD COLUMN last_poll_id      BIGINT;

UPDATE wireless_links l
SET ap_interface_name = COALESCE(
    (SELECT i.name FROM device_interfaces i WHERE i.tenant_id = l.tenant_id AND i.id = l.ap_interface_id), '');

ALTER TABLE wireless_links
    ALTER COLUMN ap_interface_name SET NOT NULL,
    ADD CONSTRAINT wireless_links_ap_interface_name_length CHECK (length(ap_interface_name) <= 64),
    ADD CONSTRAINT wireless_links_rates_nonnegative CHECK (tx_rate >= 0 AND rx_rate >= 0),
    -- A station moving to another radio of the same AP is another link: missed polls count per radio.
    DROP CONSTRAINT wireless_links_tenant_id_ap_device_id_cpe_mac_key,
    ADD CONSTRAINT wireless_links_ap_radio_station_key UNIQUE (tenant_id, ap_device_id, ap_interface_name, cpe_mac),
    ADD CONSTRAINT wireless_links_tenant_id_cpe_interface_id_fkey FOREIGN KEY (tenant_id, cpe_interface_id)
        REFERENCES device_interfaces (tenant_id, id) ON DELETE SET NULL (cpe_interface_id);

-- Registering an interface resolves its MAC against links and registrations already seen.
CREATE INDEX idx_wireless_links_cpe_mac ON wireless_links (tenant_id, cpe_mac);
-- The foreign keys' ON DELETE SET NULL looks links up by interface.
CREATE INDEX idx_wireless_links_ap_interface ON wireless_links (tenant_id, ap_interface_id) WHERE ap_interface_id IS NOT NULL;
CREATE INDEX idx_wireless_links_cpe_interface ON wireless_links (tenant_id, cpe_interface_id) WHERE cpe_interface_id IS NOT NULL;
-- Every poll rewrites each listed link's figures and last_seen_at. None of those columns is
-- indexed (on purpose: an index on last_seen_at would serve only the aging worker, whose per-tenant
-- age is a join filter anyway), so with room left on each page the rewrites are HOT updates: no
-- index is touched unless a link changes state or resolution.
ALTER TABLE wireless_links SET (fillfactor = 70);

-- =============================================================================================
-- wireless_link_events: append-only, with the poll that caused a change and maintenance marking
-- =============================================================================================

ALTER TABLE wireless_link_events
    -- A DEGRADED or DOWN change while the AP or the CPE was in a maintenance window: stored, not
    -- published to subscribers.
    ADD COLUMN suppressed BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN poll_id    BIGINT,
    ADD CONSTRAINT wireless_link_events_reason_check CHECK (reason IN (
        'DISCOVERED', 'CONFIRMED', 'SIGNAL_DEGRADED', 'SIGNAL_RECOVERED', 'SEEN_AGAIN',
        'MISSED_POLLS', 'AP_SILENT', 'NOT_SEEN', 'AP_OFFLINE')),
    -- Only the discovery of a link starts from no state.
    ADD CONSTRAINT wireless_link_events_first_is_discovery CHECK ((from_state IS NULL) = (reason = 'DISCOVERED'));

-- As device_connection_events: append-only as a property of the data, not only of the grants; a
-- delete passes only as the cascade of its link's deletion.
CREATE FUNCTION wireless_link_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (
        SELECT 1 FROM wireless_links l WHERE l.tenant_id = OLD.tenant_id AND l.id = OLD.link_id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'wireless_link_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Link events are removed only when their link is deleted.';
END
$$;

CREATE TRIGGER trg_wireless_link_events_append_only
    BEFORE UPDATE OR DELETE ON wireless_link_events
    FOR EACH ROW EXECUTE FUNCTION wireless_link_events_append_only();

-- =============================================================================================
-- wireless_registrations: the latest sighting of each station MAC no interface resolves, per AP radio
-- =============================================================================================
--
-- A MAC that resolves becomes (or refreshes) a link instead; registering an interface with the MAC
-- turns its registrations into links. So the table holds exactly the unresolved stations, one row
-- per AP radio and MAC, refreshed each poll, and resolved_device_id has nothing left to say.

DELETE FROM wireless_registrations WHERE resolved_device_id IS NOT NULL;
DROP INDEX idx_wireless_registrations_resolved;
ALTER TABLE wireless_registrations DROP COLUMN resolved_device_id;

UPDATE wireless_registrations SET interface_name = '' WHERE interface_name IS NULL;
DELETE FROM wireless_registrations r
USING wireless_registrations newer
WHERE newer.tenant_id = r.tenant_id AND newer.ap_device_id = r.ap_device_id
  AND newer.interface_name = r.interface_name AND newer.station_mac = r.station_mac AND newer.id > r.id;

DROP INDEX idx_wireless_registrations_ap_time;
ALTER TABLE wireless_registrations RENAME COLUMN polled_at TO last_seen_at;
ALTER TABLE wireless_registrations
    ALTER COLUMN interface_name SET NOT NULL,
    ADD CONSTRAINT wireless_registrations_interface_name_length CHECK (length(interface_name) <= 64),
    ADD COLUMN noise_dbm     DOUBLE PRECISION,
    ADD COLUMN uptime_s      BIGINT
                             CONSTRAINT wireless_registrations_uptime_nonnegative CHECK (uptime_s >= 0),
    ADD COLUMN first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN last_poll_id  BIGINT,
    -- Polls that listed the station since it was first seen.
    ADD COLUMN sightings     BIGINT NOT NULL DEFAULT 1
                             CONSTRAINT wireless_registrations_sightings_positive CHECK (sightings > 0),
    ADD CONSTRAINT wireless_registrations_ap_radio_station_key UNIQUE (tenant_id, ap_device_id, interface_name, station_mac);
-- Refreshed on every poll that lists the station; room on each page keeps those updates HOT.
ALTER TABLE wireless_registrations SET (fillfactor = 70);

-- =============================================================================================
-- wireless_ap_polls: the last poll applied per AP radio (idempotency and AP silence)
-- =============================================================================================

CREATE TABLE wireless_ap_polls (
    tenant_id        TEXT        NOT NULL,
    ap_device_id     TEXT        NOT NULL,
    interface_name   TEXT        NOT NULL
                     CONSTRAINT wireless_ap_polls_interface_name_length CHECK (length(interface_name) BETWEEN 1 AND 64),
    -- A poll applies only when both its pollId and its ts are newer than these: a repeated or
    -- out-of-order poll changes nothing.
    last_poll_id     BIGINT      NOT NULL
                     CONSTRAINT wireless_ap_polls_last_poll_id_nonnegative CHECK (last_poll_id >= 0),
    -- The AP's own clock (its poll's ts): ordering only.
    last_polled_at   TIMESTAMPTZ NOT NULL,
    -- The server's clock when the poll was applied: AP silence is measured with it.
    last_received_at TIMESTAMPTZ NOT NULL,
    stations         INT         NOT NULL
                     CONSTRAINT wireless_ap_polls_stations_nonnegative CHECK (stations >= 0),
    polls            BIGINT      NOT NULL DEFAULT 1,
    first_polled_at  TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT wireless_ap_polls_pkey PRIMARY KEY (tenant_id, ap_device_id, interface_name),
    CONSTRAINT wireless_ap_polls_tenant_id_ap_device_id_fkey FOREIGN KEY (tenant_id, ap_device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- Rewritten on every poll: no index beyond the key, so those rewrites stay HOT updates.
ALTER TABLE wireless_ap_polls SET (fillfactor = 70);

-- =============================================================================================
-- wireless_link_settings: a tenant's thresholds; NULL falls back to the server's defaults
-- =============================================================================================

CREATE TABLE wireless_link_settings (
    tenant_id               TEXT        NOT NULL,
    signal_degrade_dbm      DOUBLE PRECISION
                            CONSTRAINT wireless_link_settings_signal_degrade_range CHECK (signal_degrade_dbm BETWEEN -150 AND 0),
    signal_recover_dbm      DOUBLE PRECISION
                            CONSTRAINT wireless_link_settings_signal_recover_range CHECK (signal_recover_dbm BETWEEN -150 AND 0),
    snr_degrade_db          DOUBLE PRECISION
                            CONSTRAINT wireless_link_settings_snr_degrade_range CHECK (snr_degrade_db BETWEEN -20 AND 100),
    snr_recover_db          DOUBLE PRECISION
                            CONSTRAINT wireless_link_settings_snr_recover_range CHECK (snr_recover_db BETWEEN -20 AND 100),
    confirm_polls           INT
                            CONSTRAINT wireless_link_settings_confirm_polls_range CHECK (confirm_polls BETWEEN 1 AND 100),
    down_after_missed_polls INT
                            CONSTRAINT wireless_link_settings_down_after_range CHECK (down_after_missed_polls BETWEEN 1 AND 1000),
    min_dwell_seconds       INT
                            CONSTRAINT wireless_link_settings_min_dwell_range CHECK (min_dwell_seconds BETWEEN 0 AND 86400),
    stale_after_seconds     INT
                            CONSTRAINT wireless_link_settings_stale_after_range CHECK (stale_after_seconds BETWEEN 1 AND 2592000),
    ap_silent_after_seconds INT
                            CONSTRAINT wireless_link_settings_ap_silent_after_range CHECK (ap_silent_after_seconds BETWEEN 1 AND 2592000),
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT wireless_link_settings_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT wireless_link_settings_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE
);

CREATE TRIGGER trg_wireless_link_settings_updated_at BEFORE UPDATE ON wireless_link_settings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- =============================================================================================
-- device_maintenance_windows: planned work on a device; its links' DEGRADED/DOWN are not announced
-- =============================================================================================

CREATE TABLE device_maintenance_windows (
    id         UUID        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id  TEXT        NOT NULL,
    device_id  TEXT        NOT NULL,
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    reason     TEXT
               CONSTRAINT device_maintenance_windows_reason_length CHECK (length(reason) <= 500),
    created_by TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT device_maintenance_windows_pkey PRIMARY KEY (id),
    CONSTRAINT device_maintenance_windows_ordered CHECK (ends_at > starts_at),
    CONSTRAINT device_maintenance_windows_tenant_id_device_id_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);

-- "Is this device in maintenance at t": windows of the device that end after t.
CREATE INDEX idx_device_maintenance_windows_device ON device_maintenance_windows (tenant_id, device_id, ends_at);

-- =============================================================================================
-- Row-level security and privileges for the new tables (same three policies as every table)
-- =============================================================================================

ALTER TABLE wireless_ap_polls ENABLE ROW LEVEL SECURITY;
ALTER TABLE wireless_ap_polls FORCE ROW LEVEL SECURITY;
CREATE POLICY wireless_ap_polls_tenant_isolation ON wireless_ap_polls
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY wireless_ap_polls_operator_read ON wireless_ap_polls
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY wireless_ap_polls_service ON wireless_ap_polls
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE wireless_link_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE wireless_link_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY wireless_link_settings_tenant_isolation ON wireless_link_settings
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY wireless_link_settings_operator_read ON wireless_link_settings
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY wireless_link_settings_service ON wireless_link_settings
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

ALTER TABLE device_maintenance_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_maintenance_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY device_maintenance_windows_tenant_isolation ON device_maintenance_windows
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_maintenance_windows_operator_read ON device_maintenance_windows
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_maintenance_windows_service ON device_maintenance_windows
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

GRANT SELECT, INSERT, UPDATE, DELETE ON wireless_ap_polls, wireless_link_settings, device_maintenance_windows TO pulse_app;
