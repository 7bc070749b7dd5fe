-- The device filter language (devices/filter.ts) and dynamic groups.

-- In sync: every desired leaf is reported with the same value, walking desired and reported
-- together where desired holds a non-empty object (a desired {} only needs an object there);
-- arrays and scalars compare whole. The same rule as computeSyncStatus over computeTwinDelta, and
-- as the convergence query (twin/convergence.ts). Immutable: it reads only its arguments.
CREATE FUNCTION pulse_twin_in_sync(desired jsonb, reported jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT NOT EXISTS (
    WITH RECURSIVE walk (want, have) AS (
      SELECT desired, reported
      UNION ALL
      SELECT member.value, walk.have -> member.key
      FROM walk CROSS JOIN LATERAL jsonb_each(walk.want) AS member
      WHERE jsonb_typeof(walk.want) = 'object' AND walk.want <> '{}'::jsonb AND jsonb_typeof(walk.have) = 'object'
    )
    SELECT 1 FROM walk
    WHERE have IS NULL
       OR (jsonb_typeof(want) = 'object' AND jsonb_typeof(have) <> 'object')
       OR (jsonb_typeof(want) <> 'object' AND want <> have)
  )
$$;
GRANT EXECUTE ON FUNCTION pulse_twin_in_sync(jsonb, jsonb) TO pulse_app;

-- Twin value terms: `@>` containment finds equal values through these.
CREATE INDEX idx_device_state_desired_gin ON device_state USING gin (desired_state jsonb_path_ops);
CREATE INDEX idx_device_state_reported_gin ON device_state USING gin (reported_state jsonb_path_ops);

-- deviceIdPrefix / namePrefix / patterns: LIKE 'abc%' needs pattern operator classes.
CREATE INDEX idx_device_registry_device_id_pattern ON device_registry (tenant_id, device_id text_pattern_ops);
CREATE INDEX idx_device_registry_name_pattern ON device_registry (tenant_id, name text_pattern_ops);

-- The last seen time of lastSeenBefore / lastSeenAfter within a tenant.
CREATE INDEX idx_device_state_last_seen ON device_state (tenant_id, last_seen_at);

-- Which aspects of a device a dynamic group's filter looks at (presence, tags, twin, ...): a change
-- to another aspect cannot move a device in or out of it, so membership events skip the group.
ALTER TABLE device_groups ADD COLUMN filter_aspects text[] NOT NULL DEFAULT '{}';

-- The members of each dynamic group as last evaluated: not what reads use (reads evaluate the
-- filter live, so they see every change at once) but what membership events diff against.
CREATE TABLE device_group_dynamic_members (
    tenant_id  TEXT        NOT NULL,
    group_id   TEXT        NOT NULL,
    device_id  TEXT        NOT NULL,
    joined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT device_group_dynamic_members_pkey PRIMARY KEY (tenant_id, group_id, device_id),
    CONSTRAINT device_group_dynamic_members_group_fkey FOREIGN KEY (tenant_id, group_id)
        REFERENCES device_groups (tenant_id, group_id) ON DELETE CASCADE,
    CONSTRAINT device_group_dynamic_members_device_fkey FOREIGN KEY (tenant_id, device_id)
        REFERENCES device_registry (tenant_id, device_id) ON DELETE CASCADE
);
CREATE INDEX idx_device_group_dynamic_members_device ON device_group_dynamic_members (tenant_id, device_id);

ALTER TABLE device_group_dynamic_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_group_dynamic_members FORCE ROW LEVEL SECURITY;
CREATE POLICY device_group_dynamic_members_tenant_isolation ON device_group_dynamic_members
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY device_group_dynamic_members_operator_read ON device_group_dynamic_members
    FOR SELECT USING (app_role() = 'operator');
CREATE POLICY device_group_dynamic_members_service ON device_group_dynamic_members
    USING (app_role() = 'iot_service') WITH CHECK (app_role() = 'iot_service');
GRANT SELECT, INSERT, UPDATE, DELETE ON device_group_dynamic_members TO pulse_app;
