-- AlterTable
ALTER TABLE "units" ADD COLUMN     "association_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "members_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "registered_count" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "unit_members" ADD COLUMN     "association_member" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "registered" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "learning_groups" ADD COLUMN     "members_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "unregistered_count" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "learning_group_members" ADD COLUMN     "registered" BOOLEAN NOT NULL DEFAULT false;

-- Counters behind the targets' scoreboard, kept by triggers so /targets reads one row per unit and
-- one per family instead of counting every person on each view. Statement-level triggers with
-- transition tables: a bulk insert (an import, a generated province) updates each unit once.

-- A new member row carries whether its person is registered / an association member.
CREATE FUNCTION khb_unit_member_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.registered := EXISTS (SELECT 1 FROM learning_citizens c WHERE c.user_id = NEW.user_id);
  NEW.association_member := EXISTS (SELECT 1 FROM users u WHERE u.telegram_id = NEW.user_id AND u.association_member_since IS NOT NULL);
  RETURN NEW;
END $$;
CREATE TRIGGER unit_members_flags BEFORE INSERT ON unit_members FOR EACH ROW EXECUTE FUNCTION khb_unit_member_flags();

-- Member rows in, out or changed: each unit's counters move by the difference.
CREATE FUNCTION khb_unit_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE units u SET members_count = u.members_count + d.n, registered_count = u.registered_count + d.r, association_count = u.association_count + d.a
      FROM (SELECT unit_id, count(*)::int AS n, (count(*) FILTER (WHERE registered))::int AS r, (count(*) FILTER (WHERE association_member))::int AS a
              FROM khb_new GROUP BY unit_id) d
     WHERE u.id = d.unit_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE units u SET members_count = u.members_count - d.n, registered_count = u.registered_count - d.r, association_count = u.association_count - d.a
      FROM (SELECT unit_id, count(*)::int AS n, (count(*) FILTER (WHERE registered))::int AS r, (count(*) FILTER (WHERE association_member))::int AS a
              FROM khb_old GROUP BY unit_id) d
     WHERE u.id = d.unit_id;
  ELSE
    UPDATE units u SET members_count = u.members_count + d.n, registered_count = u.registered_count + d.r, association_count = u.association_count + d.a
      FROM (SELECT unit_id, sum(n)::int AS n, sum(r)::int AS r, sum(a)::int AS a FROM (
              SELECT unit_id, 1 AS n, registered::int AS r, association_member::int AS a FROM khb_new
              UNION ALL SELECT unit_id, -1, -(registered::int), -(association_member::int) FROM khb_old) x
             GROUP BY unit_id) d
     WHERE u.id = d.unit_id AND (d.n <> 0 OR d.r <> 0 OR d.a <> 0);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER unit_members_counts_ins AFTER INSERT ON unit_members REFERENCING NEW TABLE AS khb_new FOR EACH STATEMENT EXECUTE FUNCTION khb_unit_counts();
CREATE TRIGGER unit_members_counts_del AFTER DELETE ON unit_members REFERENCING OLD TABLE AS khb_old FOR EACH STATEMENT EXECUTE FUNCTION khb_unit_counts();
CREATE TRIGGER unit_members_counts_upd AFTER UPDATE ON unit_members REFERENCING OLD TABLE AS khb_old NEW TABLE AS khb_new FOR EACH STATEMENT EXECUTE FUNCTION khb_unit_counts();

-- The same for learning groups: members, and members without a learning card.
CREATE FUNCTION khb_group_member_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.registered := EXISTS (SELECT 1 FROM learning_citizens c WHERE c.user_id = NEW.user_id);
  RETURN NEW;
END $$;
CREATE TRIGGER learning_group_members_flags BEFORE INSERT ON learning_group_members FOR EACH ROW EXECUTE FUNCTION khb_group_member_flags();

CREATE FUNCTION khb_group_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE learning_groups g SET members_count = g.members_count + d.n, unregistered_count = g.unregistered_count + d.u
      FROM (SELECT group_id, count(*)::int AS n, (count(*) FILTER (WHERE NOT registered))::int AS u FROM khb_new GROUP BY group_id) d
     WHERE g.id = d.group_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE learning_groups g SET members_count = g.members_count - d.n, unregistered_count = g.unregistered_count - d.u
      FROM (SELECT group_id, count(*)::int AS n, (count(*) FILTER (WHERE NOT registered))::int AS u FROM khb_old GROUP BY group_id) d
     WHERE g.id = d.group_id;
  ELSE
    UPDATE learning_groups g SET members_count = g.members_count + d.n, unregistered_count = g.unregistered_count + d.u
      FROM (SELECT group_id, sum(n)::int AS n, sum(u)::int AS u FROM (
              SELECT group_id, 1 AS n, (NOT registered)::int AS u FROM khb_new
              UNION ALL SELECT group_id, -1, -((NOT registered)::int) FROM khb_old) x
             GROUP BY group_id) d
     WHERE g.id = d.group_id AND (d.n <> 0 OR d.u <> 0);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER learning_group_members_counts_ins AFTER INSERT ON learning_group_members REFERENCING NEW TABLE AS khb_new FOR EACH STATEMENT EXECUTE FUNCTION khb_group_counts();
CREATE TRIGGER learning_group_members_counts_del AFTER DELETE ON learning_group_members REFERENCING OLD TABLE AS khb_old FOR EACH STATEMENT EXECUTE FUNCTION khb_group_counts();
CREATE TRIGGER learning_group_members_counts_upd AFTER UPDATE ON learning_group_members REFERENCING OLD TABLE AS khb_old NEW TABLE AS khb_new FOR EACH STATEMENT EXECUTE FUNCTION khb_group_counts();

-- A learning card made or erased: the person's member rows follow (and through them the counters).
CREATE FUNCTION khb_citizen_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE unit_members m SET registered = TRUE FROM khb_new n WHERE m.user_id = n.user_id AND NOT m.registered;
    UPDATE learning_group_members m SET registered = TRUE FROM khb_new n WHERE m.user_id = n.user_id AND NOT m.registered;
  ELSE
    UPDATE unit_members m SET registered = FALSE FROM khb_old o WHERE m.user_id = o.user_id AND m.registered;
    UPDATE learning_group_members m SET registered = FALSE FROM khb_old o WHERE m.user_id = o.user_id AND m.registered;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER learning_citizens_flags_ins AFTER INSERT ON learning_citizens REFERENCING NEW TABLE AS khb_new FOR EACH STATEMENT EXECUTE FUNCTION khb_citizen_flags();
CREATE TRIGGER learning_citizens_flags_del AFTER DELETE ON learning_citizens REFERENCING OLD TABLE AS khb_old FOR EACH STATEMENT EXECUTE FUNCTION khb_citizen_flags();

-- Association membership declared or withdrawn: the person's unit rows follow.
CREATE FUNCTION khb_association_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE unit_members m SET association_member = (n.association_member_since IS NOT NULL)
    FROM khb_new n JOIN khb_old o ON o.telegram_id = n.telegram_id
   WHERE m.user_id = n.telegram_id AND (n.association_member_since IS NULL) <> (o.association_member_since IS NULL);
  RETURN NULL;
END $$;
CREATE TRIGGER users_association_flags AFTER UPDATE ON users REFERENCING OLD TABLE AS khb_old NEW TABLE AS khb_new FOR EACH STATEMENT EXECUTE FUNCTION khb_association_flags();

-- What is already stored.
UPDATE unit_members m SET registered = EXISTS (SELECT 1 FROM learning_citizens c WHERE c.user_id = m.user_id),
       association_member = EXISTS (SELECT 1 FROM users u WHERE u.telegram_id = m.user_id AND u.association_member_since IS NOT NULL);
UPDATE learning_group_members m SET registered = EXISTS (SELECT 1 FROM learning_citizens c WHERE c.user_id = m.user_id);
UPDATE units u SET members_count = coalesce(d.n, 0), registered_count = coalesce(d.r, 0), association_count = coalesce(d.a, 0)
  FROM units x LEFT JOIN (SELECT unit_id, count(*)::int AS n, (count(*) FILTER (WHERE registered))::int AS r, (count(*) FILTER (WHERE association_member))::int AS a
                            FROM unit_members GROUP BY unit_id) d ON d.unit_id = x.id
 WHERE u.id = x.id;
UPDATE learning_groups g SET members_count = coalesce(d.n, 0), unregistered_count = coalesce(d.u, 0)
  FROM learning_groups x LEFT JOIN (SELECT group_id, count(*)::int AS n, (count(*) FILTER (WHERE NOT registered))::int AS u
                                      FROM learning_group_members GROUP BY group_id) d ON d.group_id = x.id
 WHERE g.id = x.id;
