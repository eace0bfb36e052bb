-- The portal's read-only PostgreSQL role `pantau_portal` (PANTAU_TRANSPARENCY_DATABASE_URL): it
-- may SELECT the transparency log (tracking's transparency_* tables) and nothing else — never
-- cases, history or applicants. Run as a superuser IN TRACKING'S DATABASE, idempotently:
--   infra/lib/postgres.sh (database pantau, every `up`; DEVELOPMENT password) and the compose
--   postgres init (infra/postgres/compose-init.sh).
-- psql variable: portal_password.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pantau_portal') THEN
    CREATE ROLE pantau_portal LOGIN;
  END IF;
END
$$;
ALTER ROLE pantau_portal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'portal_password';
-- belt and braces: even a grant added by mistake later cannot be used to write
ALTER ROLE pantau_portal SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA public TO pantau_portal;

-- the log's tables that exist already ...
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables
            WHERE schemaname = 'public' AND tablename LIKE 'transparency\_%' LOOP
    EXECUTE format('GRANT SELECT ON public.%I TO pantau_portal', t.tablename);
  END LOOP;
END
$$;

-- ... and those tracking's migrations create later (the trigger runs as the creating role,
-- which owns the new table and so may grant on it)
CREATE OR REPLACE FUNCTION pantau_grant_transparency_to_portal() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands()
              WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    IF obj.schema_name = 'public' AND obj.object_identity LIKE 'public.transparency\_%' THEN
      EXECUTE format('GRANT SELECT ON %s TO pantau_portal', obj.object_identity);
    END IF;
  END LOOP;
END
$$;
DROP EVENT TRIGGER IF EXISTS pantau_grant_transparency_to_portal;
CREATE EVENT TRIGGER pantau_grant_transparency_to_portal ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION pantau_grant_transparency_to_portal();
