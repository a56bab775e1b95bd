#!/bin/sh
# `make airflow`: Airflow on the project's dags/ with the demo agencies' feeds, its components
# started one by one as in production (docs/operations.md): API server (and UI), scheduler,
# DAG processor, triggerer. The Makefile sets AIRFLOW_HOME, JAMSOS_* and the API's host and
# port (AIRFLOW__API__HOST/PORT, loopback by default). The scheduler and triggerer start
# without their log servers: LocalExecutor's logs are files the API server reads itself, and
# those servers would listen on every interface. This script keeps the demo feeds
# (gateway.demo.feeds: the SOAP service lives in that process) up while Airflow runs, and
# makes Ctrl-C stop everything: a component left behind would keep the SQLite files and the
# port busy for the next start.
set -u
python="${1:?usage: airflow-demo.sh VENV_BIN}/python"
airflow="$1/airflow"
sources="${JAMSOS_SOURCES_FILE:?}"
host="${AIRFLOW__API__HOST:-127.0.0.1}"
port="${AIRFLOW__API__PORT:-8080}"
grace=20  # seconds Airflow gets to stop its components before they are killed

rm -f "$sources"
"$python" -m gateway.demo.feeds "$sources" &
feeds=$!
group=""

stop() {
    trap - INT TERM EXIT
    if [ -n "$group" ]; then
        # TERM, not INT: a job started with & by a non-interactive shell ignores SIGINT.
        kill -s TERM -- "-$group" 2>/dev/null
        waited=0
        while kill -0 -- "-$group" 2>/dev/null && [ "$waited" -lt "$grace" ]; do
            sleep 1
            waited=$((waited + 1))
        done
        kill -s KILL -- "-$group" 2>/dev/null
    fi
    kill "$feeds" 2>/dev/null
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

while [ ! -f "$sources" ]; do
    kill -0 "$feeds" 2>/dev/null || exit 1
    sleep 0.2
done
"$airflow" db migrate >/dev/null || exit 1
# The registry writers' pool, sized as in production (docs/operations.md, "Load control").
"$airflow" pools set "${JAMSOS_AIRFLOW_POOL:-jamsos_registry_writers}" \
    "${JAMSOS_AIRFLOW_POOL_SLOTS:-4}" "Tasks writing the Jamsos registry" >/dev/null || exit 1
echo "Airflow: http://$host:$port (user admin, password in" \
    "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated); Ctrl-C stops it"
# One process group for all four, so that stop() can end every Airflow component at once.
setsid sh -c '
    "$0" api-server --host "$1" --port "$2" &
    "$0" scheduler --skip-serve-logs &
    "$0" dag-processor &
    "$0" triggerer --skip-serve-logs &
    wait' "$airflow" "$host" "$port" &
group=$!
wait "$group"
