-- AlterTable
ALTER TABLE "users" ADD COLUMN     "telegram_name" TEXT,
ADD COLUMN     "telegram_username" TEXT,
ADD COLUMN     "unreachable_since" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "officer_invites" ALTER COLUMN "created_by_id" DROP NOT NULL;
