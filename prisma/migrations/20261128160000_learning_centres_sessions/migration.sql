-- CreateEnum
CREATE TYPE "SessionState" AS ENUM ('scheduled', 'cancelled');

-- CreateEnum
CREATE TYPE "SignupStatus" AS ENUM ('confirmed', 'waiting', 'walk_in');

-- CreateTable
CREATE TABLE "learning_centers" (
    "id" SERIAL NOT NULL,
    "province_code" VARCHAR(2) NOT NULL,
    "commune_code" VARCHAR(5) NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lon" DOUBLE PRECISION NOT NULL,
    "demo" BOOLEAN NOT NULL DEFAULT false,
    "upcoming_until" TIMESTAMP(3),
    "created_by_id" BIGINT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "learning_centers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "learning_sessions" (
    "id" SERIAL NOT NULL,
    "center_id" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "topic" VARCHAR(16) NOT NULL,
    "starts_at" TIMESTAMP(3) NOT NULL,
    "duration_min" INTEGER NOT NULL,
    "capacity" INTEGER NOT NULL,
    "speaker" TEXT,
    "organiser_body" VARCHAR(32),
    "description" TEXT,
    "state" "SessionState" NOT NULL DEFAULT 'scheduled',
    "confirmed_count" INTEGER NOT NULL DEFAULT 0,
    "waiting_count" INTEGER NOT NULL DEFAULT 0,
    "checkin_token" VARCHAR(32) NOT NULL,
    "next_reminder_at" TIMESTAMP(3),
    "demo" BOOLEAN NOT NULL DEFAULT false,
    "created_by_id" BIGINT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "cancelled_at" TIMESTAMP(3),

    CONSTRAINT "learning_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session_signups" (
    "session_id" INTEGER NOT NULL,
    "user_id" BIGINT NOT NULL,
    "status" "SignupStatus" NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "signed_up_at" TIMESTAMP(3) NOT NULL,
    "confirmed_at" TIMESTAMP(3),
    "attended_at" TIMESTAMP(3),

    CONSTRAINT "session_signups_pkey" PRIMARY KEY ("session_id","user_id")
);

-- CreateIndex
CREATE INDEX "learning_centers_lat_lon_idx" ON "learning_centers"("lat", "lon");

-- CreateIndex
CREATE INDEX "learning_centers_upcoming_until_lat_idx" ON "learning_centers"("upcoming_until", "lat");

-- CreateIndex
CREATE UNIQUE INDEX "learning_centers_commune_code_name_key" ON "learning_centers"("commune_code", "name");

-- CreateIndex
CREATE UNIQUE INDEX "learning_sessions_checkin_token_key" ON "learning_sessions"("checkin_token");

-- CreateIndex
CREATE INDEX "learning_sessions_center_id_starts_at_idx" ON "learning_sessions"("center_id", "starts_at");

-- CreateIndex
CREATE INDEX "learning_sessions_starts_at_idx" ON "learning_sessions"("starts_at");

-- CreateIndex
CREATE INDEX "learning_sessions_next_reminder_at_idx" ON "learning_sessions"("next_reminder_at");

-- CreateIndex
CREATE INDEX "session_signups_session_id_status_seq_idx" ON "session_signups"("session_id", "status", "seq");

-- CreateIndex
CREATE INDEX "session_signups_user_id_idx" ON "session_signups"("user_id");

-- AddForeignKey
ALTER TABLE "learning_sessions" ADD CONSTRAINT "learning_sessions_center_id_fkey" FOREIGN KEY ("center_id") REFERENCES "learning_centers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_signups" ADD CONSTRAINT "session_signups_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "learning_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_signups" ADD CONSTRAINT "session_signups_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;
