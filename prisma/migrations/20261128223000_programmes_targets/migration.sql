-- AlterTable
ALTER TABLE "users" ADD COLUMN     "association_member_since" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "programmes" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "province_code" VARCHAR(2) NOT NULL,
    "bodies" TEXT[],
    "start_year" INTEGER NOT NULL,
    "end_year" INTEGER NOT NULL,
    "created_by_id" BIGINT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),

    CONSTRAINT "programmes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "programme_targets" (
    "programme_id" INTEGER NOT NULL,
    "metric" VARCHAR(24) NOT NULL,
    "year" INTEGER NOT NULL,
    "percent" INTEGER NOT NULL,

    CONSTRAINT "programme_targets_pkey" PRIMARY KEY ("programme_id","metric","year")
);

-- CreateTable
CREATE TABLE "programme_officers" (
    "programme_id" INTEGER NOT NULL,
    "user_id" BIGINT NOT NULL,
    "added_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "programme_officers_pkey" PRIMARY KEY ("programme_id","user_id")
);

-- CreateTable
CREATE TABLE "target_snapshots" (
    "programme_id" INTEGER NOT NULL,
    "day" DATE NOT NULL,
    "metric" VARCHAR(24) NOT NULL,
    "scope" VARCHAR(16) NOT NULL,
    "part" INTEGER NOT NULL,
    "whole" INTEGER NOT NULL,

    CONSTRAINT "target_snapshots_pkey" PRIMARY KEY ("programme_id","scope","metric","day")
);

-- CreateTable
CREATE TABLE "report_schedules" (
    "id" SERIAL NOT NULL,
    "programme_id" INTEGER NOT NULL,
    "year" INTEGER NOT NULL,
    "due_at" TIMESTAMP(3) NOT NULL,
    "state" VARCHAR(12) NOT NULL DEFAULT 'scheduled',
    "created_by_id" BIGINT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMP(3),

    CONSTRAINT "report_schedules_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "programmes_province_code_idx" ON "programmes"("province_code");

-- CreateIndex
CREATE INDEX "programme_officers_user_id_idx" ON "programme_officers"("user_id");

-- CreateIndex
CREATE INDEX "report_schedules_state_due_at_idx" ON "report_schedules"("state", "due_at");

-- CreateIndex
CREATE UNIQUE INDEX "report_schedules_programme_id_year_due_at_key" ON "report_schedules"("programme_id", "year", "due_at");

-- AddForeignKey
ALTER TABLE "programme_targets" ADD CONSTRAINT "programme_targets_programme_id_fkey" FOREIGN KEY ("programme_id") REFERENCES "programmes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "programme_officers" ADD CONSTRAINT "programme_officers_programme_id_fkey" FOREIGN KEY ("programme_id") REFERENCES "programmes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "programme_officers" ADD CONSTRAINT "programme_officers_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "target_snapshots" ADD CONSTRAINT "target_snapshots_programme_id_fkey" FOREIGN KEY ("programme_id") REFERENCES "programmes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "report_schedules" ADD CONSTRAINT "report_schedules_programme_id_fkey" FOREIGN KEY ("programme_id") REFERENCES "programmes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- People who registered as association members are members since they registered.
UPDATE "users" u SET "association_member_since" = lc."registered_at"
FROM "learning_citizens" lc WHERE lc."user_id" = u."telegram_id" AND lc."affiliation" = 'association_member';
