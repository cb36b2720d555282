-- CreateEnum
CREATE TYPE "QuizRoundKind" AS ENUM ('solo', 'daily', 'prompt', 'group', 'contest');

-- CreateEnum
CREATE TYPE "QuizRoundState" AS ENUM ('active', 'finished', 'abandoned');

-- AlterTable
ALTER TABLE "broadcasts" ADD COLUMN     "quiz_closes_at" TIMESTAMP(3),
ADD COLUMN     "quiz_question_ids" TEXT[];

-- CreateTable
CREATE TABLE "quiz_questions" (
    "id" VARCHAR(64) NOT NULL,
    "topic" VARCHAR(32) NOT NULL,
    "difficulty" INTEGER NOT NULL DEFAULT 1,
    "fact_id" VARCHAR(8),
    "question" JSONB NOT NULL,
    "options" JSONB NOT NULL,
    "correct" INTEGER NOT NULL,
    "explanation" JSONB NOT NULL,
    "source" JSONB NOT NULL,
    "origin" VARCHAR(8) NOT NULL,
    "province_code" VARCHAR(2),
    "imported_by_id" BIGINT,
    "retired_at" TIMESTAMP(3),
    "retired_by_id" BIGINT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quiz_questions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "quiz_rounds" (
    "id" BIGSERIAL NOT NULL,
    "kind" "QuizRoundKind" NOT NULL,
    "user_id" BIGINT,
    "chat_id" BIGINT NOT NULL,
    "topic" VARCHAR(32) NOT NULL,
    "question_ids" TEXT[],
    "locale" VARCHAR(5) NOT NULL,
    "current" INTEGER NOT NULL DEFAULT 0,
    "poll_id" TEXT,
    "poll_message_id" INTEGER,
    "perm" INTEGER[],
    "poll_sent_at" TIMESTAMP(3),
    "closes_at" TIMESTAMP(3),
    "open_period" INTEGER NOT NULL DEFAULT 30,
    "score" INTEGER NOT NULL DEFAULT 0,
    "elapsed_ms" INTEGER NOT NULL DEFAULT 0,
    "state" "QuizRoundState" NOT NULL DEFAULT 'active',
    "broadcast_id" INTEGER,
    "contest_id" INTEGER,
    "tiebreak_guess" DOUBLE PRECISION,
    "started_at" TIMESTAMP(3) NOT NULL,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "quiz_rounds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "quiz_answers" (
    "round_id" BIGINT NOT NULL,
    "idx" INTEGER NOT NULL,
    "user_id" BIGINT NOT NULL,
    "question_id" VARCHAR(64) NOT NULL,
    "topic" VARCHAR(32) NOT NULL,
    "chosen" INTEGER,
    "correct" BOOLEAN NOT NULL,
    "ms" INTEGER NOT NULL,
    "answered_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "quiz_answers_pkey" PRIMARY KEY ("round_id","idx","user_id")
);

-- CreateTable
CREATE TABLE "quiz_boxes" (
    "user_id" BIGINT NOT NULL,
    "question_id" VARCHAR(64) NOT NULL,
    "box" INTEGER NOT NULL,
    "due_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "quiz_boxes_pkey" PRIMARY KEY ("user_id","question_id")
);

-- CreateTable
CREATE TABLE "quiz_profiles" (
    "user_id" BIGINT NOT NULL,
    "show_name" BOOLEAN NOT NULL DEFAULT false,
    "daily_minute" INTEGER,
    "streak" INTEGER NOT NULL DEFAULT 0,
    "best_streak" INTEGER NOT NULL DEFAULT 0,
    "last_daily_on" DATE,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quiz_profiles_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "quiz_contests" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "author_id" BIGINT,
    "province_code" VARCHAR(2),
    "commune_code" VARCHAR(5),
    "question_ids" TEXT[],
    "opens_at" TIMESTAMP(3) NOT NULL,
    "closes_at" TIMESTAMP(3) NOT NULL,
    "attempts_per_week" INTEGER NOT NULL DEFAULT 3,
    "open_period" INTEGER NOT NULL DEFAULT 30,
    "tiebreak_question" JSONB NOT NULL,
    "tiebreak_answer" DOUBLE PRECISION NOT NULL,
    "cancelled_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quiz_contests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "quiz_questions_topic_retired_at_idx" ON "quiz_questions"("topic", "retired_at");

-- CreateIndex
CREATE INDEX "quiz_questions_province_code_idx" ON "quiz_questions"("province_code");

-- CreateIndex
CREATE UNIQUE INDEX "quiz_rounds_poll_id_key" ON "quiz_rounds"("poll_id");

-- CreateIndex
CREATE INDEX "quiz_rounds_state_closes_at_idx" ON "quiz_rounds"("state", "closes_at");

-- CreateIndex
CREATE INDEX "quiz_rounds_user_id_started_at_idx" ON "quiz_rounds"("user_id", "started_at");

-- CreateIndex
CREATE INDEX "quiz_rounds_chat_id_state_idx" ON "quiz_rounds"("chat_id", "state");

-- CreateIndex
CREATE INDEX "quiz_rounds_broadcast_id_idx" ON "quiz_rounds"("broadcast_id");

-- CreateIndex
CREATE INDEX "quiz_rounds_contest_id_user_id_idx" ON "quiz_rounds"("contest_id", "user_id");

-- CreateIndex
CREATE INDEX "quiz_answers_user_id_answered_at_idx" ON "quiz_answers"("user_id", "answered_at");

-- CreateIndex
CREATE INDEX "quiz_answers_answered_at_idx" ON "quiz_answers"("answered_at");

-- CreateIndex
CREATE INDEX "quiz_boxes_user_id_due_at_idx" ON "quiz_boxes"("user_id", "due_at");

-- CreateIndex
CREATE INDEX "quiz_profiles_daily_minute_idx" ON "quiz_profiles"("daily_minute");

-- CreateIndex
CREATE INDEX "quiz_contests_closes_at_idx" ON "quiz_contests"("closes_at");
