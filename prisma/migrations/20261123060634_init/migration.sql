-- CreateEnum
CREATE TYPE "Role" AS ENUM ('resident', 'member', 'officer', 'admin');

-- CreateEnum
CREATE TYPE "Affiliation" AS ENUM ('resident', 'association_member', 'military_command', 'police', 'border_guard', 'other_organisation');

-- CreateTable
CREATE TABLE "provinces" (
    "code" VARCHAR(2) NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "search_name" TEXT NOT NULL,

    CONSTRAINT "provinces_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "communes" (
    "code" VARCHAR(5) NOT NULL,
    "province_code" VARCHAR(2) NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "search_name" TEXT NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lon" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "communes_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "users" (
    "telegram_id" BIGINT NOT NULL,
    "locale" VARCHAR(5),
    "role" "Role" NOT NULL DEFAULT 'resident',
    "scope_province_code" VARCHAR(2),
    "scope_commune_code" VARCHAR(5),
    "scope_unit" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("telegram_id")
);

-- CreateTable
CREATE TABLE "consents" (
    "id" SERIAL NOT NULL,
    "user_id" BIGINT NOT NULL,
    "version" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'personal_data',
    "given_at" TIMESTAMP(3) NOT NULL,
    "withdrawn_at" TIMESTAMP(3),

    CONSTRAINT "consents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "learning_citizens" (
    "id" SERIAL NOT NULL,
    "user_id" BIGINT NOT NULL,
    "registration_number" TEXT NOT NULL,
    "full_name" TEXT NOT NULL,
    "birth_year" INTEGER NOT NULL,
    "guardian_consent" BOOLEAN NOT NULL DEFAULT false,
    "guardian_name" TEXT,
    "province_code" VARCHAR(2) NOT NULL,
    "commune_code" VARCHAR(5) NOT NULL,
    "affiliation" "Affiliation" NOT NULL,
    "unit_name" TEXT,
    "goals" TEXT[],
    "other_goal" TEXT,
    "phone" TEXT,
    "registered_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "learning_citizens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "registration_sequences" (
    "province_code" VARCHAR(2) NOT NULL,
    "year" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,

    CONSTRAINT "registration_sequences_pkey" PRIMARY KEY ("province_code","year")
);

-- CreateTable
CREATE TABLE "officer_invites" (
    "token" TEXT NOT NULL,
    "created_by_id" BIGINT NOT NULL,
    "province_code" VARCHAR(2) NOT NULL,
    "commune_code" VARCHAR(5),
    "unit_name" TEXT,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "used_by_id" BIGINT,
    "used_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "officer_invites_pkey" PRIMARY KEY ("token")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" SERIAL NOT NULL,
    "actor_id" BIGINT,
    "action" TEXT NOT NULL,
    "detail" JSONB,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_imports" (
    "name" TEXT NOT NULL,
    "checksum" TEXT NOT NULL,
    "imported_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "dataset_imports_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "communes_province_code_search_name_idx" ON "communes"("province_code", "search_name");

-- CreateIndex
CREATE INDEX "consents_user_id_idx" ON "consents"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "learning_citizens_user_id_key" ON "learning_citizens"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "learning_citizens_registration_number_key" ON "learning_citizens"("registration_number");

-- CreateIndex
CREATE INDEX "learning_citizens_province_code_idx" ON "learning_citizens"("province_code");

-- CreateIndex
CREATE INDEX "learning_citizens_commune_code_idx" ON "learning_citizens"("commune_code");

-- AddForeignKey
ALTER TABLE "communes" ADD CONSTRAINT "communes_province_code_fkey" FOREIGN KEY ("province_code") REFERENCES "provinces"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consents" ADD CONSTRAINT "consents_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "learning_citizens" ADD CONSTRAINT "learning_citizens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;
