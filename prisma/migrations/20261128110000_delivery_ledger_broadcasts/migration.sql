-- CreateEnum
CREATE TYPE "DeliveryState" AS ENUM ('queued', 'sending', 'sent', 'blocked', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "BroadcastState" AS ENUM ('pending_approval', 'scheduled', 'sending', 'done', 'cancelled', 'rejected');

-- CreateTable
CREATE TABLE "deliveries" (
    "id" BIGSERIAL NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "ref_id" VARCHAR(64) NOT NULL,
    "chat_id" BIGINT NOT NULL,
    "state" "DeliveryState" NOT NULL DEFAULT 'queued',
    "due_at" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "ambiguous" BOOLEAN NOT NULL DEFAULT false,
    "telegram_message_id" INTEGER,
    "error" TEXT,
    "sent_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "topic_mutes" (
    "user_id" BIGINT NOT NULL,
    "topic" VARCHAR(32) NOT NULL,
    "muted_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topic_mutes_pkey" PRIMARY KEY ("user_id","topic")
);

-- CreateTable
CREATE TABLE "broadcasts" (
    "id" SERIAL NOT NULL,
    "author_id" BIGINT,
    "sender_body" VARCHAR(32) NOT NULL,
    "sender_province_code" VARCHAR(2),
    "sender_commune_code" VARCHAR(5),
    "audience" JSONB NOT NULL,
    "text" TEXT NOT NULL,
    "media_kind" VARCHAR(16),
    "media_file_id" TEXT,
    "state" "BroadcastState" NOT NULL,
    "needs_approval" BOOLEAN NOT NULL DEFAULT false,
    "approved_by_id" BIGINT,
    "approved_at" TIMESTAMP(3),
    "scheduled_at" TIMESTAMP(3),
    "recipient_count" INTEGER NOT NULL,
    "progress_chat_id" BIGINT,
    "progress_message_id" INTEGER,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "broadcasts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "deliveries_kind_ref_id_state_id_idx" ON "deliveries"("kind", "ref_id", "state", "id");

-- CreateIndex
CREATE INDEX "deliveries_state_due_at_idx" ON "deliveries"("state", "due_at");

-- CreateIndex
CREATE INDEX "deliveries_chat_id_idx" ON "deliveries"("chat_id");

-- CreateIndex
CREATE UNIQUE INDEX "deliveries_kind_ref_id_chat_id_key" ON "deliveries"("kind", "ref_id", "chat_id");

-- CreateIndex
CREATE INDEX "topic_mutes_topic_idx" ON "topic_mutes"("topic");

-- CreateIndex
CREATE INDEX "broadcasts_author_id_created_at_idx" ON "broadcasts"("author_id", "created_at");

-- CreateIndex
CREATE INDEX "broadcasts_state_idx" ON "broadcasts"("state");
