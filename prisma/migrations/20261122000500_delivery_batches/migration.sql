-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "batch_id" UUID;

-- CreateIndex
CREATE INDEX "deliveries_target_key_status_idx" ON "deliveries"("target_key", "status");

-- CreateIndex
CREATE INDEX "deliveries_batch_id_idx" ON "deliveries"("batch_id");

-- AlterTable
ALTER TABLE "outbox_events" ADD COLUMN     "seq" BIGSERIAL NOT NULL;

-- CreateIndex
CREATE INDEX "outbox_events_status_seq_idx" ON "outbox_events"("status", "seq");
