-- The reconciler's query (published, routed_at IS NULL, published_at < cutoff)
-- would otherwise read every published event on each pass.

-- CreateIndex
CREATE INDEX "outbox_events_routed_at_published_at_idx" ON "outbox_events"("routed_at", "published_at");
