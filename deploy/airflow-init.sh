#!/bin/sh
# One-off before the scheduler starts (compose service `airflow-init`, the Helm chart's
# migration job's extra step, or by hand): Airflow's metadata DB, the gateway's registry and
# the registry writers' pool, sized from JAMSOS_AIRFLOW_POOL_SLOTS (docs/operations.md,
# "Load control"). Safe to run again: each step is idempotent.
set -eu
airflow db migrate
jamsos db upgrade
pool="${JAMSOS_AIRFLOW_POOL:-jamsos_registry_writers}"
slots="${JAMSOS_AIRFLOW_POOL_SLOTS:-4}"
airflow pools set "$pool" "$slots" "Tasks writing the Jamsos registry (syncs, budget feed, deliveries)"
echo "airflow-init: metadata DB migrated, registry upgraded, pool $pool = $slots slots"
