-- Rich bot features (packages/bot-features): digests and claims.

-- A delivery held for a digest waits in Postgres, not only in Redis, so a
-- worker dying while events wait loses nothing. Appended, so existing values
-- keep their order (ALTER TYPE ... ADD VALUE; the value is not used in this transaction).
ALTER TYPE "DeliveryStatus" ADD VALUE 'held';

-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "digest_batch" UUID,
ADD COLUMN     "digest_key" TEXT;

-- CreateIndex
CREATE INDEX "deliveries_digest_key_status_idx" ON "deliveries"("digest_key", "status");

-- A claim re-renders the report's post in place ("Claimed by <name>", Claim
-- disabled), which is exactly what problem_report_status_changed already
-- means to the worker: it edits the original post from the record as it is
-- now. So a change of claimed_by_name emits that event too (payload `from` =
-- `to`, plus `claimed_by`), with the claimant as the actor. An UPDATE that
-- changes the status as well is covered by the status trigger alone.
CREATE FUNCTION "flipfix_problem_report_claimed"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM "flipfix_emit_event"(
        'problem_report_status_changed', 'problem_report', NEW."id",
        COALESCE(NULLIF(btrim(NEW."claimed_by_name"), ''), current_setting('flipfix.actor_name', true)),
        jsonb_build_object('machine_id', NEW."machine_id", 'from', OLD."status", 'to', NEW."status",
                           'claimed_by', NEW."claimed_by_name"));
    RETURN NULL;
END;
$$;

CREATE TRIGGER "problem_reports_outbox_claimed" AFTER UPDATE OF "claimed_by_name" ON "problem_reports"
    FOR EACH ROW WHEN (OLD."claimed_by_name" IS DISTINCT FROM NEW."claimed_by_name"
                       AND OLD."status" IS NOT DISTINCT FROM NEW."status")
    EXECUTE FUNCTION "flipfix_problem_report_claimed"();
