#!/bin/sh
# Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" -v jamsos_password="$JAMSOS_DB_PASSWORD" \
    -f /docker-entrypoint-initdb.d/postgres-init.sql.in
