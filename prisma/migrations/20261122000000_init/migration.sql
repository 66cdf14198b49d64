-- CreateEnum
CREATE TYPE "OperationalStatus" AS ENUM ('good', 'fixing', 'broken', 'unknown');

-- CreateEnum
CREATE TYPE "ProblemReportStatus" AS ENUM ('open', 'closed');

-- CreateEnum
CREATE TYPE "ProblemType" AS ENUM ('stuck_ball', 'no_credits', 'other');

-- CreateEnum
CREATE TYPE "ProblemPriority" AS ENUM ('untriaged', 'unplayable', 'major', 'minor', 'task');

-- CreateEnum
CREATE TYPE "PartRequestStatus" AS ENUM ('requested', 'ordered', 'received', 'cancelled');

-- CreateEnum
CREATE TYPE "OutboxStatus" AS ENUM ('pending', 'published');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('pending', 'sending', 'delivered', 'failed', 'skipped');

-- CreateEnum
CREATE TYPE "DeliveryMode" AS ENUM ('webhooks', 'both', 'bot');

-- CreateTable
CREATE TABLE "machines" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "short_name" TEXT,
    "location" TEXT,
    "operational_status" "OperationalStatus" NOT NULL DEFAULT 'unknown',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "machines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "problem_reports" (
    "id" SERIAL NOT NULL,
    "machine_id" INTEGER NOT NULL,
    "status" "ProblemReportStatus" NOT NULL DEFAULT 'open',
    "problem_type" "ProblemType" NOT NULL DEFAULT 'other',
    "priority" "ProblemPriority" NOT NULL DEFAULT 'untriaged',
    "description" TEXT NOT NULL,
    "reporter_name" TEXT,
    "reporter_contact" TEXT,
    "claimed_by_name" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "problem_reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "log_entries" (
    "id" SERIAL NOT NULL,
    "machine_id" INTEGER NOT NULL,
    "problem_report_id" INTEGER,
    "text" TEXT NOT NULL,
    "maintainer_names" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "log_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "part_requests" (
    "id" SERIAL NOT NULL,
    "machine_id" INTEGER,
    "text" TEXT NOT NULL,
    "status" "PartRequestStatus" NOT NULL DEFAULT 'requested',
    "requested_by_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "part_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "part_request_updates" (
    "id" SERIAL NOT NULL,
    "part_request_id" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "new_status" "PartRequestStatus",
    "posted_by_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "part_request_updates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "photos" (
    "id" SERIAL NOT NULL,
    "url" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "problem_report_id" INTEGER,
    "log_entry_id" INTEGER,
    "part_request_id" INTEGER,
    "part_request_update_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "photos_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "type" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" INTEGER NOT NULL,
    "actor_name" TEXT,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "status" "OutboxStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    "routed_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "event_id" UUID NOT NULL,
    "target" TEXT NOT NULL,
    "target_key" TEXT NOT NULL,
    "action" TEXT NOT NULL DEFAULT 'post',
    "status" "DeliveryStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "error_class" TEXT,
    "discord_channel_id" TEXT,
    "discord_message_id" TEXT,
    "embed_index" INTEGER,
    "thread_id" TEXT,
    "payload" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "first_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "delivery_mode" "DeliveryMode" NOT NULL DEFAULT 'bot',
    "channel_id" TEXT,
    "events" JSONB NOT NULL DEFAULT '{}',
    "threads_enabled" BOOLEAN NOT NULL DEFAULT false,
    "reactions" JSONB NOT NULL DEFAULT '{}',
    "unplayable_role_id" TEXT,
    "digest_enabled" BOOLEAN NOT NULL DEFAULT false,
    "digest_quiet_seconds" INTEGER NOT NULL DEFAULT 300,
    "digest_max_seconds" INTEGER NOT NULL DEFAULT 900,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settings_audit" (
    "id" SERIAL NOT NULL,
    "actor" TEXT NOT NULL,
    "field" TEXT NOT NULL,
    "from_value" JSONB,
    "to_value" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settings_audit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "machines_name_key" ON "machines"("name");

-- CreateIndex
CREATE UNIQUE INDEX "machines_short_name_key" ON "machines"("short_name");

-- CreateIndex
CREATE INDEX "problem_reports_machine_id_idx" ON "problem_reports"("machine_id");

-- CreateIndex
CREATE INDEX "log_entries_machine_id_idx" ON "log_entries"("machine_id");

-- CreateIndex
CREATE INDEX "log_entries_problem_report_id_idx" ON "log_entries"("problem_report_id");

-- CreateIndex
CREATE INDEX "part_requests_machine_id_idx" ON "part_requests"("machine_id");

-- CreateIndex
CREATE INDEX "part_request_updates_part_request_id_idx" ON "part_request_updates"("part_request_id");

-- CreateIndex
CREATE INDEX "photos_problem_report_id_idx" ON "photos"("problem_report_id");

-- CreateIndex
CREATE INDEX "photos_log_entry_id_idx" ON "photos"("log_entry_id");

-- CreateIndex
CREATE INDEX "photos_part_request_id_idx" ON "photos"("part_request_id");

-- CreateIndex
CREATE INDEX "photos_part_request_update_id_idx" ON "photos"("part_request_update_id");

-- CreateIndex
CREATE INDEX "outbox_events_status_created_at_idx" ON "outbox_events"("status", "created_at");

-- CreateIndex
CREATE INDEX "outbox_events_entity_type_entity_id_idx" ON "outbox_events"("entity_type", "entity_id");

-- CreateIndex
CREATE INDEX "deliveries_status_updated_at_idx" ON "deliveries"("status", "updated_at");

-- CreateIndex
CREATE INDEX "deliveries_discord_message_id_idx" ON "deliveries"("discord_message_id");

-- CreateIndex
CREATE UNIQUE INDEX "deliveries_event_id_target_target_key_key" ON "deliveries"("event_id", "target", "target_key");

-- CreateIndex
CREATE INDEX "settings_audit_created_at_idx" ON "settings_audit"("created_at");

-- AddForeignKey
ALTER TABLE "problem_reports" ADD CONSTRAINT "problem_reports_machine_id_fkey" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "log_entries" ADD CONSTRAINT "log_entries_machine_id_fkey" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "log_entries" ADD CONSTRAINT "log_entries_problem_report_id_fkey" FOREIGN KEY ("problem_report_id") REFERENCES "problem_reports"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "part_requests" ADD CONSTRAINT "part_requests_machine_id_fkey" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "part_request_updates" ADD CONSTRAINT "part_request_updates_part_request_id_fkey" FOREIGN KEY ("part_request_id") REFERENCES "part_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "photos" ADD CONSTRAINT "photos_problem_report_id_fkey" FOREIGN KEY ("problem_report_id") REFERENCES "problem_reports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "photos" ADD CONSTRAINT "photos_log_entry_id_fkey" FOREIGN KEY ("log_entry_id") REFERENCES "log_entries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "photos" ADD CONSTRAINT "photos_part_request_id_fkey" FOREIGN KEY ("part_request_id") REFERENCES "part_requests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "photos" ADD CONSTRAINT "photos_part_request_update_id_fkey" FOREIGN KEY ("part_request_update_id") REFERENCES "part_request_updates"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "outbox_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
