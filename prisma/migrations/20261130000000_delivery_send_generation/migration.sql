-- A forced redelivery ("Post again") starts a new send of a delivered post:
-- its nonce is derived from the id and this generation, so Discord creates a
-- new message instead of answering with the one the old nonce made.
ALTER TABLE "deliveries" ADD COLUMN "send_generation" INTEGER NOT NULL DEFAULT 0;

-- The events queue and its re-routing are gone (the relay routes in the
-- claim's transaction), and with them the reconciler's query on routed_at.
DROP INDEX "outbox_events_routed_at_published_at_idx";
