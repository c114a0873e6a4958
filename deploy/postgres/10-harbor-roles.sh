#!/bin/sh
# Harbor's two database roles (SECURITY.md, "Database roles"). Run once by the postgres image's
# entrypoint, as its superuser, when the data volume is first initialised; on an existing
# database run the same SQL by hand (psql as a superuser).
#
#   harbor_owner  owns the database, its schema and every table: runs `migrate` and the
#                 maintenance commands (apply_retention's VACUUM, rotate_field_encryption).
#   harbor_app    what web, worker, reports and beat connect as: SELECT, INSERT, UPDATE and
#                 DELETE on the tables, USAGE on the sequences, nothing else. It owns nothing, so
#                 it cannot ALTER TABLE … DISABLE TRIGGER, DROP a trigger or replace a function;
#                 it has no TRUNCATE, and is no superuser (session_replication_role is refused).
set -eu
: "${HARBOR_OWNER_PASSWORD:?set HARBOR_OWNER_PASSWORD}"
: "${HARBOR_APP_PASSWORD:?set HARBOR_APP_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$HARBOR_OWNER_PASSWORD" -v app_password="$HARBOR_APP_PASSWORD" <<'SQL'
CREATE ROLE harbor_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE harbor_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
CREATE DATABASE harbor OWNER harbor_owner;
REVOKE ALL ON DATABASE harbor FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE harbor TO harbor_app;
SQL

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname harbor <<'SQL'
-- Extensions the migrations need, created by the superuser so the owner needs no more rights.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER SCHEMA public OWNER TO harbor_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO harbor_app;
-- Every table and sequence the owner creates (every migration) is granted to the app role.
ALTER DEFAULT PRIVILEGES FOR ROLE harbor_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO harbor_app;
ALTER DEFAULT PRIVILEGES FOR ROLE harbor_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO harbor_app;
SQL
