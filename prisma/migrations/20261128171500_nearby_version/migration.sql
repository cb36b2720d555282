-- CreateTable
CREATE TABLE "nearby_version" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "nearby_version_pkey" PRIMARY KEY ("id")
);


INSERT INTO "nearby_version" ("id", "version") VALUES (1, 0);

-- Once per statement (a demo load or an import is one bump, not thousands), and only for the
-- columns the nearby search reads: seat counters changing on every sign-up do not move it.
CREATE FUNCTION "bump_nearby_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "nearby_version" SET "version" = "version" + 1 WHERE "id" = 1;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "learning_centers_nearby_version"
  AFTER INSERT OR DELETE OR UPDATE OF "lat", "lon", "upcoming_until", "name", "address", "commune_code", "province_code", "demo" ON "learning_centers"
  FOR EACH STATEMENT EXECUTE FUNCTION "bump_nearby_version"();

CREATE TRIGGER "learning_sessions_nearby_version"
  AFTER INSERT OR DELETE OR UPDATE OF "state", "starts_at", "duration_min", "topic", "center_id" ON "learning_sessions"
  FOR EACH STATEMENT EXECUTE FUNCTION "bump_nearby_version"();
