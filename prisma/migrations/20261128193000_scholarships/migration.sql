-- CreateEnum
CREATE TYPE "ScholarshipRoundState" AS ENUM ('active', 'closed', 'cancelled');

-- CreateEnum
CREATE TYPE "NominationStatus" AS ENUM ('received', 'shortlisted', 'awarded', 'not_selected');

-- CreateTable
CREATE TABLE "scholarship_rounds" (
    "id" SERIAL NOT NULL,
    "programme" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "organiser_body" VARCHAR(32) NOT NULL,
    "province_code" VARCHAR(2),
    "eligibility" TEXT NOT NULL,
    "rules" JSONB NOT NULL,
    "award_value_vnd" BIGINT,
    "award_count" INTEGER,
    "opens_on" DATE NOT NULL,
    "deadline_on" DATE NOT NULL,
    "award_on" DATE NOT NULL,
    "how_to_apply" TEXT NOT NULL,
    "contact" TEXT NOT NULL,
    "state" "ScholarshipRoundState" NOT NULL DEFAULT 'active',
    "next_reminder_at" TIMESTAMP(3),
    "created_by_id" BIGINT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "closed_at" TIMESTAMP(3),
    "cancelled_at" TIMESTAMP(3),

    CONSTRAINT "scholarship_rounds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scholarship_subscriptions" (
    "round_id" INTEGER NOT NULL,
    "user_id" BIGINT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "scholarship_subscriptions_pkey" PRIMARY KEY ("round_id","user_id")
);

-- CreateTable
CREATE TABLE "nominations" (
    "id" SERIAL NOT NULL,
    "round_id" INTEGER NOT NULL,
    "nominator_id" BIGINT NOT NULL,
    "relationship" VARCHAR(16) NOT NULL,
    "student_name" TEXT NOT NULL,
    "birth_year" INTEGER NOT NULL,
    "school" TEXT NOT NULL,
    "school_level" VARCHAR(16) NOT NULL,
    "grade" INTEGER,
    "province_code" VARCHAR(2) NOT NULL,
    "commune_code" VARCHAR(5) NOT NULL,
    "circumstances" TEXT[],
    "guardian_name" TEXT NOT NULL,
    "guardian_consent_at" TIMESTAMP(3) NOT NULL,
    "student_key" TEXT NOT NULL,
    "status" "NominationStatus" NOT NULL DEFAULT 'received',
    "status_changed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "nominations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "scholarship_rounds_state_deadline_on_idx" ON "scholarship_rounds"("state", "deadline_on");

-- CreateIndex
CREATE INDEX "scholarship_rounds_province_code_deadline_on_idx" ON "scholarship_rounds"("province_code", "deadline_on");

-- CreateIndex
CREATE INDEX "scholarship_rounds_next_reminder_at_idx" ON "scholarship_rounds"("next_reminder_at");

-- CreateIndex
CREATE INDEX "scholarship_subscriptions_user_id_idx" ON "scholarship_subscriptions"("user_id");

-- CreateIndex
CREATE INDEX "nominations_nominator_id_idx" ON "nominations"("nominator_id");

-- CreateIndex
CREATE INDEX "nominations_round_id_commune_code_idx" ON "nominations"("round_id", "commune_code");

-- CreateIndex
CREATE UNIQUE INDEX "nominations_round_id_student_key_key" ON "nominations"("round_id", "student_key");

-- AddForeignKey
ALTER TABLE "scholarship_subscriptions" ADD CONSTRAINT "scholarship_subscriptions_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "scholarship_rounds"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scholarship_subscriptions" ADD CONSTRAINT "scholarship_subscriptions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nominations" ADD CONSTRAINT "nominations_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "scholarship_rounds"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nominations" ADD CONSTRAINT "nominations_nominator_id_fkey" FOREIGN KEY ("nominator_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;
