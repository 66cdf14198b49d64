-- The Flipfix capture: triggers on Flipfix's own tables (schema public, as
-- Django creates them) that write our outbox in the writer's transaction.
-- Applied by our runner with search_path = flipfix_notify, after our own
-- migrations, so every object here lives in flipfix_notify and
-- `npm run db:detach` (DROP SCHEMA flipfix_notify CASCADE) removes the
-- functions and, with them, the triggers. Nothing here alters a Flipfix
-- table's columns, constraints or data, or Django's migration history.
--
-- The triggers are constraint triggers, DEFERRABLE INITIALLY DEFERRED: they
-- run at COMMIT of the Django transaction, when the whole form save is there
-- (the log entry's maintainers, the DiscordMessageMapping rows the Discord
-- bot writes after the record, the media). That is where Flipfix's own
-- delivery rules are decided, as its signal handlers decided them on commit:
--   * no *_created event for a record that came from Discord (a
--     DiscordMessageMapping row for it; Flipfix #209);
--   * a part request's status change is not an event: it reaches Discord
--     only as the update that made it (Flipfix #208), so parts_partrequest
--     has an INSERT trigger only;
--   * the actor (the digest's grouping key) is the acting user, as
--     Flipfix's handlers' get_actor_user: the reporting user (usually none:
--     visitors), the log entry's creator, the requester's or poster's user;
--     no user = anonymous = posted at once. Named as Flipfix's digest names
--     them: the linked Discord name, else the full name, else the username.
--
-- The functions are SECURITY DEFINER (owned by the role that ran the
-- migration), so Django's own database role needs no privilege on our schema.

CREATE FUNCTION "flipfix_user_display_name"(p_user_id INTEGER) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT COALESCE(
        NULLIF(l."discord_display_name", ''),
        NULLIF(l."discord_username", ''),
        NULLIF(btrim(u."first_name" || ' ' || u."last_name"), ''),
        u."username")
      FROM public."auth_user" u
      LEFT JOIN public."accounts_maintainer" m ON m."user_id" = u."id"
      LEFT JOIN public."discord_discorduserlink" l ON l."maintainer_id" = m."id"
     WHERE u."id" = p_user_id
$$;

CREATE FUNCTION "flipfix_maintainer_user"(p_maintainer_id BIGINT) RETURNS INTEGER
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT "user_id" FROM public."accounts_maintainer" WHERE "id" = p_maintainer_id
$$;

-- Flipfix's DiscordMessageMapping.has_mapping_for(model, id).
CREATE FUNCTION "flipfix_came_from_discord"(p_app_label TEXT, p_model TEXT, p_id BIGINT) RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (
        SELECT 1 FROM public."discord_discordmessagemapping" mm
          JOIN public."django_content_type" ct ON ct."id" = mm."content_type_id"
         WHERE ct."app_label" = p_app_label AND ct."model" = p_model AND mm."object_id" = p_id)
$$;

CREATE FUNCTION "flipfix_problem_report_created_capture"() RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    r public."maintenance_problemreport"%ROWTYPE;
BEGIN
    -- At commit: the row as the transaction leaves it (gone if deleted again).
    SELECT * INTO r FROM public."maintenance_problemreport" WHERE "id" = NEW."id";
    IF NOT FOUND OR "flipfix_came_from_discord"('maintenance', 'problemreport', r."id") THEN
        RETURN NULL;
    END IF;
    PERFORM "flipfix_emit_event"(
        'problem_report_created', 'problem_report', r."id"::INTEGER,
        "flipfix_user_display_name"(r."reported_by_user_id"),
        jsonb_build_object('machine_id', r."machine_id", 'status', r."status",
                           'priority', r."priority", 'problem_type', r."problem_type"));
    RETURN NULL;
END;
$$;

-- Closing or reopening edits the original post (never a second message).
-- Flipfix records who did it only in the log entry it writes beside it, so
-- the event has no actor (edits are never digested anyway).
CREATE FUNCTION "flipfix_problem_report_status_capture"() RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM "flipfix_emit_event"(
        'problem_report_status_changed', 'problem_report', NEW."id"::INTEGER, NULL,
        jsonb_build_object('machine_id', NEW."machine_id", 'from', OLD."status", 'to', NEW."status"));
    RETURN NULL;
END;
$$;

CREATE FUNCTION "flipfix_log_entry_created_capture"() RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    e public."maintenance_logentry"%ROWTYPE;
BEGIN
    SELECT * INTO e FROM public."maintenance_logentry" WHERE "id" = NEW."id";
    IF NOT FOUND OR "flipfix_came_from_discord"('maintenance', 'logentry', e."id") THEN
        RETURN NULL;
    END IF;
    PERFORM "flipfix_emit_event"(
        'log_entry_created', 'log_entry', e."id"::INTEGER,
        "flipfix_user_display_name"(e."created_by_id"),
        jsonb_build_object('machine_id', e."machine_id", 'problem_report_id', e."problem_report_id"));
    RETURN NULL;
END;
$$;

CREATE FUNCTION "flipfix_part_request_created_capture"() RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    p public."parts_partrequest"%ROWTYPE;
BEGIN
    SELECT * INTO p FROM public."parts_partrequest" WHERE "id" = NEW."id";
    IF NOT FOUND OR "flipfix_came_from_discord"('parts', 'partrequest', p."id") THEN
        RETURN NULL;
    END IF;
    PERFORM "flipfix_emit_event"(
        'part_request_created', 'part_request', p."id"::INTEGER,
        "flipfix_user_display_name"("flipfix_maintainer_user"(p."requested_by_id")),
        jsonb_build_object('machine_id', p."machine_id", 'status', p."status"));
    RETURN NULL;
END;
$$;

CREATE FUNCTION "flipfix_part_request_update_created_capture"() RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    u public."parts_partrequestupdate"%ROWTYPE;
    v_machine_id BIGINT;
BEGIN
    SELECT * INTO u FROM public."parts_partrequestupdate" WHERE "id" = NEW."id";
    IF NOT FOUND OR "flipfix_came_from_discord"('parts', 'partrequestupdate', u."id") THEN
        RETURN NULL;
    END IF;
    SELECT "machine_id" INTO v_machine_id FROM public."parts_partrequest" WHERE "id" = u."part_request_id";
    PERFORM "flipfix_emit_event"(
        'part_request_update_created', 'part_request_update', u."id"::INTEGER,
        "flipfix_user_display_name"("flipfix_maintainer_user"(u."posted_by_id")),
        jsonb_build_object('part_request_id', u."part_request_id", 'machine_id', v_machine_id,
                           'new_status', NULLIF(u."new_status", '')));
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER "flipfix_notify_created" AFTER INSERT ON public."maintenance_problemreport"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "flipfix_problem_report_created_capture"();

CREATE CONSTRAINT TRIGGER "flipfix_notify_status" AFTER UPDATE OF "status" ON public."maintenance_problemreport"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD."status" IS DISTINCT FROM NEW."status")
    EXECUTE FUNCTION "flipfix_problem_report_status_capture"();

CREATE CONSTRAINT TRIGGER "flipfix_notify_created" AFTER INSERT ON public."maintenance_logentry"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "flipfix_log_entry_created_capture"();

CREATE CONSTRAINT TRIGGER "flipfix_notify_created" AFTER INSERT ON public."parts_partrequest"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "flipfix_part_request_created_capture"();

CREATE CONSTRAINT TRIGGER "flipfix_notify_created" AFTER INSERT ON public."parts_partrequestupdate"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "flipfix_part_request_update_created_capture"();
