-- The relay only needs to be woken, not told which rows: NOTIFY with an empty
-- payload, which Postgres folds into one notification per transaction (a
-- 1,000-row INSERT used to queue 1,000 notifications for every listener).
CREATE OR REPLACE FUNCTION "flipfix_emit_event"(p_type TEXT, p_entity_type TEXT, p_entity_id INTEGER, p_actor TEXT, p_payload JSONB)
RETURNS UUID LANGUAGE plpgsql AS $$
DECLARE
    v_id UUID;
BEGIN
    INSERT INTO "outbox_events" ("type", "entity_type", "entity_id", "actor_name", "payload")
    VALUES (p_type, p_entity_type, p_entity_id, NULLIF(btrim(p_actor), ''), COALESCE(p_payload, '{}'::jsonb))
    RETURNING "id" INTO v_id;
    PERFORM pg_notify('flipfix_outbox', '');
    RETURN v_id;
END;
$$;
