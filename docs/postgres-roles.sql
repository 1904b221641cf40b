-- Database roles for a Concord study on PostgreSQL (see docs/security.md).
--
--   concord_owner  owns the study database and its tables; runs `coding init`, `coding migrate`
--                  and the command-line imports. Its credentials stay with the study's admin.
--   concord_app    the account the app runs as: reads and writes rows, never changes the
--                  schema, and may only append to the audit trail (`events`).
--   coders         get no database role at all: only an account in the app
--                  (`coding users add`), which signs in through the app.
--
-- Run as a superuser (or a role with CREATEROLE that owns the database), connected to the
-- study database, after `coding init` has created the tables as concord_owner:
--
--   psql -d concord_study -f docs/postgres-roles.sql
--   psql -d concord_study -c '\password concord_app'
--
-- Running it again is safe; do so after an upgrade that adds tables (the default privileges
-- below already cover tables concord_owner creates later, but not the audit-trail rules).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'concord_owner') THEN
        CREATE ROLE concord_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'concord_app') THEN
        CREATE ROLE concord_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    -- Only these two roles may connect to the study database.
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO concord_owner, concord_app',
                   current_database());
END
$$;

-- Nobody but the owner creates anything in the schema; the app may only use it.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO concord_owner;
GRANT USAGE ON SCHEMA public TO concord_app;

-- Rows: read and write every table...
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO concord_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO concord_app;
-- ...except the audit trail, which is append-only, and the schema's version, which only
-- migrations (run as concord_owner) write.
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM concord_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_version FROM concord_app;

-- Tables and sequences that later migrations create (as concord_owner) get the same grants.
ALTER DEFAULT PRIVILEGES FOR ROLE concord_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO concord_app;
ALTER DEFAULT PRIVILEGES FOR ROLE concord_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO concord_app;
