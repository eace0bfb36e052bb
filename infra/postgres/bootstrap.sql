-- Run by infra/stack.sh as the `postgres` superuser after every start. Idempotent.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pantau') THEN
    CREATE ROLE pantau LOGIN CREATEDB PASSWORD 'pantau';
  ELSE
    ALTER ROLE pantau LOGIN CREATEDB PASSWORD 'pantau';
  END IF;
END
$$;
SELECT format('CREATE DATABASE %I OWNER pantau', d)
  FROM unnest(ARRAY['pantau', 'pantau_test']) AS d
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d)
\gexec
