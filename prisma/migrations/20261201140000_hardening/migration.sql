-- Hardening (issue 14).

-- =============================================================================================
-- 1. The service policy is the server's own work only
-- =============================================================================================
--
-- The `<table>_service` policies let app.role = 'iot_service' read and write every tenant. That is
-- meant for the server's own cross-tenant transactions (MQTT ingest, workers, broker logins), which
-- run with no tenant in scope (`serviceScope()`, src/kernel/scope.ts). A GraphQL caller always has
-- its token's tenant in app.tenant_id, whatever its role, so the policy now also requires that no
-- tenant is set: an `iot_service` token is bounded by its tenant like any other caller's (only
-- `operator` reads across tenants, through its own read policy).
--
-- app_service_scope() is the one spelling of that rule; policies of tables created from here on
-- use it (`USING (app_service_scope()) WITH CHECK (app_service_scope())`). The loop rewrites every
-- existing policy that grants on app.role = 'iot_service' alone, whichever migration created it;
-- test/hardening/rls-policies.test.ts fails on any policy that grants the service role without it.

CREATE FUNCTION app_service_scope() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT app_role() = 'iot_service' AND app_tenant_id() IS NULL $$;

GRANT EXECUTE ON FUNCTION app_service_scope() TO pulse_app;

DO $$
DECLARE
    policy record;
BEGIN
    FOR policy IN
        SELECT schemaname, tablename, policyname, with_check IS NOT NULL AS has_check
        FROM pg_policies
        WHERE schemaname = current_schema()
          AND qual LIKE '%iot_service%'
          AND qual NOT LIKE '%app_service_scope()%'
    LOOP
        IF policy.has_check THEN
            EXECUTE format('ALTER POLICY %I ON %I.%I USING (app_service_scope()) WITH CHECK (app_service_scope())',
                           policy.policyname, policy.schemaname, policy.tablename);
        ELSE
            EXECUTE format('ALTER POLICY %I ON %I.%I USING (app_service_scope())',
                           policy.policyname, policy.schemaname, policy.tablename);
        END IF;
    END LOOP;
END
$$;

-- =============================================================================================
-- 6. Device reports apply once, in order
-- =============================================================================================
--
-- The highest `seq` of a `twin/reported` message applied for the device (docs/device-protocol.md).
-- A report whose seq is not above it was applied already (a QoS 1 redelivery, e.g. after a broker
-- restart) or is older than one applied: it changes nothing. NULL until the device sends a seq.
ALTER TABLE device_state ADD COLUMN reported_seq BIGINT
    CONSTRAINT device_state_reported_seq_non_negative CHECK (reported_seq >= 0);
