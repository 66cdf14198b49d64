-- The legacy webhook path (packages/legacy-webhooks): endpoints and their
-- event subscriptions. Nothing else references these tables; deliveries keep
-- the endpoint id as a plain target_key, so dropping both tables removes the
-- path (see docs/ARCHITECTURE-legacy-webhooks.md).

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_event_subscriptions" (
    "id" SERIAL NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "webhook_event_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "webhook_event_subscriptions_endpoint_id_event_type_key" ON "webhook_event_subscriptions"("endpoint_id", "event_type");

-- AddForeignKey
ALTER TABLE "webhook_event_subscriptions" ADD CONSTRAINT "webhook_event_subscriptions_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- What Prisma cannot express: the service's name rule (1..80 characters), for writers that bypass it.
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_name_check" CHECK (char_length(btrim("name")) BETWEEN 1 AND 80);
