-- CreateTable
CREATE TABLE "units" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "name_key" TEXT NOT NULL,
    "kind" VARCHAR(24) NOT NULL,
    "body" VARCHAR(32) NOT NULL,
    "province_code" VARCHAR(2) NOT NULL,
    "commune_code" VARCHAR(5) NOT NULL,
    "parent_id" INTEGER,
    "headcount" INTEGER NOT NULL,
    "join_token" VARCHAR(32) NOT NULL,
    "learning_status" VARCHAR(16) NOT NULL DEFAULT 'none',
    "learning_assessment" JSONB,
    "learning_requested_at" TIMESTAMP(3),
    "learning_decided_at" TIMESTAMP(3),
    "learning_decided_by_id" BIGINT,
    "learning_return_reason" TEXT,
    "created_by_id" BIGINT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),

    CONSTRAINT "units_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "unit_members" (
    "unit_id" INTEGER NOT NULL,
    "user_id" BIGINT NOT NULL,
    "role" VARCHAR(8) NOT NULL DEFAULT 'member',
    "display_name" TEXT NOT NULL,
    "joined_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "unit_members_pkey" PRIMARY KEY ("unit_id","user_id")
);

-- CreateTable
CREATE TABLE "learning_groups" (
    "id" SERIAL NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "name" TEXT NOT NULL,
    "province_code" VARCHAR(2) NOT NULL,
    "commune_code" VARCHAR(5) NOT NULL,
    "invite_token" VARCHAR(32) NOT NULL,
    "children_in_school" BOOLEAN,
    "created_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "learning_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "learning_group_members" (
    "group_id" INTEGER NOT NULL,
    "user_id" BIGINT NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "role" VARCHAR(8) NOT NULL DEFAULT 'member',
    "joined_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "learning_group_members_pkey" PRIMARY KEY ("group_id","user_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "units_join_token_key" ON "units"("join_token");

-- CreateIndex
CREATE INDEX "units_province_code_commune_code_idx" ON "units"("province_code", "commune_code");

-- CreateIndex
CREATE INDEX "units_parent_id_idx" ON "units"("parent_id");

-- CreateIndex
CREATE UNIQUE INDEX "units_commune_code_name_key_key" ON "units"("commune_code", "name_key");

-- CreateIndex
CREATE INDEX "unit_members_user_id_idx" ON "unit_members"("user_id");

-- CreateIndex
CREATE INDEX "unit_members_unit_id_role_idx" ON "unit_members"("unit_id", "role");

-- CreateIndex
CREATE UNIQUE INDEX "learning_groups_invite_token_key" ON "learning_groups"("invite_token");

-- CreateIndex
CREATE INDEX "learning_groups_province_code_commune_code_kind_idx" ON "learning_groups"("province_code", "commune_code", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "learning_group_members_user_id_kind_key" ON "learning_group_members"("user_id", "kind");

-- AddForeignKey
ALTER TABLE "units" ADD CONSTRAINT "units_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "units"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "unit_members" ADD CONSTRAINT "unit_members_unit_id_fkey" FOREIGN KEY ("unit_id") REFERENCES "units"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "unit_members" ADD CONSTRAINT "unit_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "learning_group_members" ADD CONSTRAINT "learning_group_members_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "learning_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "learning_group_members" ADD CONSTRAINT "learning_group_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("telegram_id") ON DELETE CASCADE ON UPDATE CASCADE;
