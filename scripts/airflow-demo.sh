#!/bin/sh
# `make airflow`: Airflow standalone on the project's dags/ with the demo agencies' feeds.
# The Makefile sets AIRFLOW_HOME, JAMSOS_* and the rest; this script keeps the demo feeds
# (gateway.demo.feeds: the SOAP service lives in that process) up while Airflow runs, and
# makes Ctrl-C stop everything: Airflow's triggerer can hang on shutdown, and a component
# left behind would keep the SQLite files and port 8080 busy for the next start.
set -u
python="${1:?usage: airflow-demo.sh VENV_BIN}/python"
airflow="$1/airflow"
sources="${JAMSOS_SOURCES_FILE:?}"
grace=20  # seconds Airflow gets to stop its components before they are killed

rm -f "$sources"
"$python" -m gateway.demo.feeds "$sources" &
feeds=$!
standalone=""

stop() {
    trap - INT TERM EXIT
    if [ -n "$standalone" ]; then
        # TERM, not INT: a job started with & by a non-interactive shell ignores SIGINT.
        kill -s TERM -- "-$standalone" 2>/dev/null
        waited=0
        while kill -0 "$standalone" 2>/dev/null && [ "$waited" -lt "$grace" ]; do
            sleep 1
            waited=$((waited + 1))
        done
        kill -s KILL -- "-$standalone" 2>/dev/null
    fi
    kill "$feeds" 2>/dev/null
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

while [ ! -f "$sources" ]; do
    kill -0 "$feeds" 2>/dev/null || exit 1
    sleep 0.2
done
echo "Airflow: http://127.0.0.1:8080 (user admin, password in" \
    "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated); Ctrl-C stops it"
# A process group of its own, so that stop() can end every Airflow component at once.
setsid "$airflow" standalone &
standalone=$!
wait "$standalone"
