-- Commands: the delivery ledger (issue 9) on top of seed 001's device_commands.
--
-- Adds the CANCELLED outcome, idempotency keys, a publishing lease (so two instances never both
-- publish one command), a creation sequence (so "in creation order" has no ties), group batches,
-- and the partial indexes the dispatcher, the sweeps and the reads scan. Runs on PostgreSQL 15+
-- and on PGlite, as one simple query.

ALTER TABLE device_commands DROP CONSTRAINT device_commands_status_check;
ALTER TABLE device_commands ADD CONSTRAINT device_commands_status_check
    CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'expired', 'missed', 'cancelled'));

ALTER TABLE device_commands
    -- Client-chosen: the same key for the same device returns the existing command.
    ADD COLUMN idempotency_key   TEXT
        CONSTRAINT device_commands_idempotency_key_format
        CHECK (idempotency_key ~ '^[^[:cntrl:]]{1,128}$'),
    ADD COLUMN batch_id          TEXT,
    -- While a QUEUED command is being handed to the broker: until then no other publisher takes
    -- it. A publisher that dies leaves a lease that simply runs out (then the command is taken
    -- again: at-least-once, the device drops the duplicate by commandId).
    ADD COLUMN claimed_until     TIMESTAMPTZ,
    ADD COLUMN cancelled_at      TIMESTAMPTZ,
    ADD COLUMN status_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Global creation order: commands created in one transaction share created_at.
    ADD COLUMN seq               BIGINT GENERATED ALWAYS AS IDENTITY;

ALTER TABLE device_commands
    ADD CONSTRAINT device_commands_tenant_id_device_id_idempotency_key_key
        UNIQUE (tenant_id, device_id, idempotency_key),
    ADD CONSTRAINT device_commands_sent_has_time CHECK (status <> 'sent' OR sent_at IS NOT NULL),
    ADD CONSTRAINT device_commands_cancelled_has_time CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL),
    -- Only a command not yet accepted by the broker can hold a publishing lease.
    ADD CONSTRAINT device_commands_claim_only_queued CHECK (claimed_until IS NULL OR status = 'queued'),
    ADD CONSTRAINT device_commands_ttl_seconds_range CHECK (ttl_seconds BETWEEN 1 AND 604800);

-- One per sendGroupCommand: the members resolved at send time each got one command (batch_id).
CREATE TABLE command_batches (
    tenant_id      TEXT        NOT NULL,
    batch_id       TEXT        NOT NULL DEFAULT gen_random_uuid()::text,
    group_id       TEXT,
    command_type   TEXT        NOT NULL,
    command_params JSONB       NOT NULL DEFAULT '{}'
                   CONSTRAINT command_batches_command_params_object CHECK (jsonb_typeof(command_params) = 'object'),
    ttl_seconds    INT         NOT NULL
                   CONSTRAINT command_batches_ttl_seconds_range CHECK (ttl_seconds BETWEEN 1 AND 604800),
    expires_at     TIMESTAMPTZ NOT NULL,
    target_count   INT         NOT NULL DEFAULT 0
                   CONSTRAINT command_batches_target_count_nonnegative CHECK (target_count >= 0),
    created_by     TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT command_batches_pkey PRIMARY KEY (tenant_id, batch_id),
    CONSTRAINT command_batches_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    -- The batch outlives its group, as the commands do.
    CONSTRAINT command_batches_tenant_id_group_id_fkey FOREIGN KEY (tenant_id, group_id)
        REFERENCES device_groups (tenant_id, group_id) ON DELETE SET NULL (group_id)
);

ALTER TABLE device_commands ADD CONSTRAINT device_commands_tenant_id_batch_id_fkey
    FOREIGN KEY (tenant_id, batch_id) REFERENCES command_batches (tenant_id, batch_id) ON DELETE SET NULL (batch_id);

-- A device's queue in creation order (dispatch, offline hold, the sweeps).
CREATE INDEX idx_device_commands_device_queue
    ON device_commands (tenant_id, device_id, seq)
    WHERE status = 'queued';

-- Device.commands, newest first.
CREATE INDEX idx_device_commands_device_seq
    ON device_commands (tenant_id, device_id, seq DESC);

-- Query.commands across the tenant, newest first.
CREATE INDEX idx_device_commands_tenant_seq
    ON device_commands (tenant_id, seq DESC);

-- Batch counts (an index-only GROUP BY status) and the batch's command list.
CREATE INDEX idx_device_commands_batch
    ON device_commands (tenant_id, batch_id, status, seq)
    WHERE batch_id IS NOT NULL;

ALTER TABLE command_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE command_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY command_batches_tenant_isolation ON command_batches
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY command_batches_operator_read ON command_batches
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY command_batches_service ON command_batches
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');

GRANT SELECT, INSERT, UPDATE, DELETE ON command_batches TO pulse_app;
