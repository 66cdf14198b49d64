-- What schema.prisma cannot express: CHECK constraints, the settings row,
-- and the triggers that capture domain events into the outbox inside the
-- writer's own transaction (so rows written by any client, psql included,
-- are posted, and nothing is posted for a rolled-back write).

-- A photo belongs to exactly one record.
ALTER TABLE "photos" ADD CONSTRAINT "photos_exactly_one_owner_check"
    CHECK (num_nonnulls("problem_report_id", "log_entry_id", "part_request_id", "part_request_update_id") = 1);

ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_target_check" CHECK ("target" IN ('bot', 'webhook'));
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_action_check" CHECK ("action" IN ('post', 'edit'));

ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_events_entity_type_check"
    CHECK ("entity_type" IN ('problem_report', 'log_entry', 'part_request', 'part_request_update'));

-- Settings is a single row; the digest window rules match the admin API's validation.
ALTER TABLE "settings" ADD CONSTRAINT "settings_single_row_check" CHECK ("id" = 1);
ALTER TABLE "settings" ADD CONSTRAINT "settings_digest_window_check"
    CHECK ("digest_quiet_seconds" BETWEEN 10 AND 3600
       AND "digest_max_seconds" >= "digest_quiet_seconds"
       AND "digest_max_seconds" <= 86400);

INSERT INTO "settings" ("id", "updated_at") VALUES (1, CURRENT_TIMESTAMP) ON CONFLICT ("id") DO NOTHING;

-- Writes one outbox row and wakes the relay. The NOTIFY is delivered only on
-- commit, so the relay never sees an event whose transaction rolled back.
CREATE FUNCTION "flipfix_emit_event"(p_type TEXT, p_entity_type TEXT, p_entity_id INTEGER, p_actor TEXT, p_payload JSONB)
RETURNS UUID LANGUAGE plpgsql AS $$
DECLARE
    v_id UUID;
BEGIN
    INSERT INTO "outbox_events" ("type", "entity_type", "entity_id", "actor_name", "payload")
    VALUES (p_type, p_entity_type, p_entity_id, NULLIF(btrim(p_actor), ''), COALESCE(p_payload, '{}'::jsonb))
    RETURNING "id" INTO v_id;
    PERFORM pg_notify('flipfix_outbox', v_id::text);
    RETURN v_id;
END;
$$;

CREATE FUNCTION "flipfix_problem_report_created"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM "flipfix_emit_event"(
        'problem_report_created', 'problem_report', NEW."id",
        COALESCE(NULLIF(btrim(NEW."reporter_name"), ''), NEW."reporter_contact"),
        jsonb_build_object('machine_id', NEW."machine_id", 'status', NEW."status",
                           'priority', NEW."priority", 'problem_type', NEW."problem_type"));
    RETURN NULL;
END;
$$;

-- The actor of a status change is not a column: writers that know it set the
-- transaction-local setting flipfix.actor_name (the services do).
CREATE FUNCTION "flipfix_problem_report_status_changed"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM "flipfix_emit_event"(
        'problem_report_status_changed', 'problem_report', NEW."id",
        current_setting('flipfix.actor_name', true),
        jsonb_build_object('machine_id', NEW."machine_id", 'from', OLD."status", 'to', NEW."status"));
    RETURN NULL;
END;
$$;

CREATE FUNCTION "flipfix_log_entry_created"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM "flipfix_emit_event"(
        'log_entry_created', 'log_entry', NEW."id",
        array_to_string(NEW."maintainer_names", ', '),
        jsonb_build_object('machine_id', NEW."machine_id", 'problem_report_id', NEW."problem_report_id"));
    RETURN NULL;
END;
$$;

CREATE FUNCTION "flipfix_part_request_created"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM "flipfix_emit_event"(
        'part_request_created', 'part_request', NEW."id",
        NEW."requested_by_name",
        jsonb_build_object('machine_id', NEW."machine_id", 'status', NEW."status"));
    RETURN NULL;
END;
$$;

-- An update carrying a new status sets the request's status in the same
-- transaction, whoever inserts it. A part request's status changes reach
-- Discord only as updates (the update's own event), so no event is emitted here.
CREATE FUNCTION "flipfix_part_request_update_created"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    v_machine_id INTEGER;
BEGIN
    IF NEW."new_status" IS NOT NULL THEN
        UPDATE "part_requests"
           SET "status" = NEW."new_status", "updated_at" = CURRENT_TIMESTAMP
         WHERE "id" = NEW."part_request_id" AND "status" IS DISTINCT FROM NEW."new_status";
    END IF;
    SELECT "machine_id" INTO v_machine_id FROM "part_requests" WHERE "id" = NEW."part_request_id";
    PERFORM "flipfix_emit_event"(
        'part_request_update_created', 'part_request_update', NEW."id",
        NEW."posted_by_name",
        jsonb_build_object('part_request_id', NEW."part_request_id", 'machine_id', v_machine_id,
                           'new_status', NEW."new_status"));
    RETURN NULL;
END;
$$;

CREATE TRIGGER "problem_reports_outbox_insert" AFTER INSERT ON "problem_reports"
    FOR EACH ROW EXECUTE FUNCTION "flipfix_problem_report_created"();

CREATE TRIGGER "problem_reports_outbox_status" AFTER UPDATE OF "status" ON "problem_reports"
    FOR EACH ROW WHEN (OLD."status" IS DISTINCT FROM NEW."status")
    EXECUTE FUNCTION "flipfix_problem_report_status_changed"();

CREATE TRIGGER "log_entries_outbox_insert" AFTER INSERT ON "log_entries"
    FOR EACH ROW EXECUTE FUNCTION "flipfix_log_entry_created"();

CREATE TRIGGER "part_requests_outbox_insert" AFTER INSERT ON "part_requests"
    FOR EACH ROW EXECUTE FUNCTION "flipfix_part_request_created"();

CREATE TRIGGER "part_request_updates_outbox_insert" AFTER INSERT ON "part_request_updates"
    FOR EACH ROW EXECUTE FUNCTION "flipfix_part_request_update_created"();

-- Every worker reloads its settings cache on this notification.
CREATE FUNCTION "flipfix_settings_changed"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('flipfix_settings', NEW."version"::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER "settings_notify" AFTER INSERT OR UPDATE ON "settings"
    FOR EACH ROW EXECUTE FUNCTION "flipfix_settings_changed"();
