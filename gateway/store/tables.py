"""The registry's tables (SQLAlchemy Core). Alembic migrations in `migrations/` create them.

NIK and name are stored only encrypted (`*_enc`, see security/crypto.py); `nik_index` is the
keyed blind index used for lookups and de-duplication. No other column holds a NIK.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

workers = Table(
    "workers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("nik_index", String(64), nullable=False, unique=True),
    Column("nik_enc", Text, nullable=False),
    Column("name_enc", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("gender", String(1), nullable=False),
    # Where the NIK was first registered ("PP.RR"), not where the person lives or works.
    Column("nik_region", String(5), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("worker_id", Integer, ForeignKey("workers.id"), nullable=False),
    Column("agency", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("position", Text),
    Column("work_unit", Text),
    Column("wage", BigInteger, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("status", String(16), nullable=False),  # active | ended
    # Digest of the enrolled facts: an unchanged row is recognised without decrypting anything.
    Column("record_hash", String(32), nullable=False),
    # Keyed digest of the roster row's cell texts when that row was clean (no problem at all):
    # the same row again is known unchanged before it is validated or encrypted (prepare.py).
    # NULL unless the enrollment is active: ending an enrollment clears it.
    Column("row_digest", String(32)),
    Column("first_run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("last_run_id", Integer, ForeignKey("runs.id"), nullable=False),
    # The last run whose roster named this worker (or, for a row exactly as last time, an
    # earlier one: such rows are listed in a temporary table instead, see bulk.py): the
    # snapshot ends the ones it did not name.
    Column("seen_run_id", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("worker_id", "agency"),
    Index("ix_enrollments_agency_status", "agency", "status"),
    Index("ix_enrollments_agency_row_digest", "agency", "row_digest"),
)

enrollment_history = Table(
    "enrollment_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", Integer, ForeignKey("enrollments.id"), nullable=False, index=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("change", String(16), nullable=False),  # new | changed | ended | reactivated
    Column("before", JSON),
    Column("after", JSON),
    Column("at", DateTime(timezone=True), nullable=False),
    # The spreadsheet row (or feed item) that made a new, changed or reactivated entry; NULL
    # for an ending (migration 0014): verification problems name it to the clerk.
    Column("row", Integer),
)

# The counters every run carries; reports, the API and the audit log list them in this order.
RUN_CHANGES = ("new", "changed", "unchanged", "ended")
RUN_COUNTS = ("rows", "accepted", "rejected", "warnings", *RUN_CHANGES)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agency", String(32), nullable=False),
    Column("source", String(64), nullable=False),  # "upload" or a plugin source id
    Column("trigger", String(32), nullable=False),  # api | cli | web | schedule | airflow
    # Who acted (migration 0010): "api:<key prefix>", "user:<name>", else the trigger.
    Column("actor", String(128)),
    Column("mode", String(16), nullable=False, server_default="snapshot"),
    Column("filename", Text),
    Column("input_sha256", String(64)),
    Column("status", String(16), nullable=False),  # running | succeeded | rejected | failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("rows", Integer, nullable=False, server_default="0"),
    Column("accepted", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("warnings", Integer, nullable=False, server_default="0"),
    Column("new", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("ended", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("columns", JSON),
    Column("unknown_columns", JSON),
    Column("cursor_before", Text),
    Column("cursor_after", Text),
    Column("external_id", Text),  # e.g. the Airflow dag_id/run_id that started it
    # The process running it, "host|boot id|pid|process start" (migration 0011): a run whose
    # process is gone is failed as interrupted at once, not after hours (Registry.sweep_runs).
    Column("owner", String(200)),
    Column("error", Text),
    # An unchanged re-sync's problems are its source's previous run's: kept once, held by
    # this run (migration 0017, store/problem_sets.py). NULL: the run holds its own.
    Column("problems_run_id", Integer),
    Index("ix_runs_agency_status", "agency", "status"),
    Index("ix_runs_started_at", "started_at"),
)

problems = Table(
    "problems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("field", String(32)),
    Column("code", String(48), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Index("ix_problems_run_row", "run_id", "row"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prefix", String(16), nullable=False, unique=True),  # shown to people, not secret
    Column("key_hash", String(64), nullable=False),
    Column("agency", String(32), nullable=False),
    Column("label", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # A revocation may lie ahead: a rotated key stays valid for its grace period.
    Column("revoked_at", DateTime(timezone=True)),
    # Lifecycle (migration 0010): refused from expires_at on; last_used_at is written at most
    # every few minutes, so an unused key shows before it is revoked.
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

# One row: facts the gateway checks at start (e.g. that the index key is the one in use).
gateway_meta = Table(
    "gateway_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# -- plugin sources (migration 0002) ------------------------------------------------------------

# One row per source that has synced: its incremental cursor ("changed since") and, for a drop
# folder, the file it processed last. Moved only by a succeeded run, in that run's transaction.
source_state = Table(
    "source_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("cursor", Text),
    Column("run_id", Integer, ForeignKey("runs.id")),  # the run that set the cursor
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The last sync that found nothing new (no run recorded): the feed was there and in
    # order then, which feed health counts (migration 0008).
    Column("checked_at", DateTime(timezone=True)),
)

# What a government allocated in its budget (APBD, SIPD export) or declared itself, per fiscal
# year and account code (Permendagri 90/2019: 5.1.02.02.02.0006 JKK, .0007 JKM, .0010 JHT).
budget_allocations = Table(
    "budget_allocations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("government", String(8), nullable=False),  # Kemendagri region code, "15.05"
    Column("fiscal_year", Integer, nullable=False),
    Column("account_code", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),  # whole Rupiah for the year
    Column("source", String(16), nullable=False),  # apbd | declared
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("government", "fiscal_year", "account_code", "source"),
)

# -- trust (migration 0003) ---------------------------------------------------------------------

# Append-only, hash-chained (security/audit.py). Text columns keep exactly the bytes hashed.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(48), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The signed receipt of each applied run, so a repeated submission returns the same receipt.
receipts = Table(
    "receipts",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("receipt", Text, nullable=False),
)

# Signed checkpoints of the audit chain and the registry (migration 0011, store/audit.py): the
# chain's head and the runs' digest, signed with the receipt key, which the database never
# holds. `body` keeps exactly the bytes signed.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("seq", Integer, nullable=False),  # the chain entry it covers (its head then)
    Column("body", Text, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", Text, nullable=False),
)

# -- dashboard (migration 0004) -----------------------------------------------------------------

# Compliance staff who log in to the dashboard (gateway/store/users.py). Agencies never log in here:
# they use API keys. Passwords are stored only as scrypt hashes.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),  # viewer | operator (docs/design.md §5)
    Column("display_name", Text),
    # Consecutive failed logins; at the limit the account locks until `locked_until`.
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("last_login_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
    # Sessions begun before this are over: set at logout (migration 0007).
    Column("sessions_since", DateTime(timezone=True)),
    # The one agency (ministry or government code) the user may read; NULL is the national
    # view of compliance staff (migration 0012, docs/design.md §7).
    Column("agency", String(32)),
)

# -- identity conflicts (migration 0009) -------------------------------------------------------

# A roster claimed, for a worker another agency also enrolls, another name, birth date or
# gender than the shared worker record holds (store/identity.py). The worker record is not
# changed; compliance staff settle it. One row per (worker, claiming agency), reopened when the
# claim comes back after it was resolved. No NIK or name in clear: the worker by id (its NIK
# behind the blind index), the claimed name masked.
identity_conflicts = Table(
    "identity_conflicts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("worker_id", Integer, ForeignKey("workers.id"), nullable=False),
    Column("agency", String(32), nullable=False),  # the agency whose roster claims otherwise
    Column("holders", JSON, nullable=False),  # the other agencies enrolling the worker
    Column("fields", JSON, nullable=False),  # which of name, birth_date, gender differ
    Column("claimed_name", String(64)),  # masked ("Bu*** S."), never the name itself
    Column("claimed_birth_date", Date),
    Column("claimed_gender", String(1)),
    Column("first_run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("last_run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    # Set when the agency's roster agrees with the worker record again.
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_run_id", Integer, ForeignKey("runs.id")),
    UniqueConstraint("worker_id", "agency"),
    Index("ix_identity_conflicts_agency_resolved_at", "agency", "resolved_at"),
)

# -- identity verification (migration 0014) -----------------------------------------------------

# The population registry's last answer about each worker (store/verification.py, docs/
# verification.md): the verdict, the scores per element and the answer code, never an element
# itself. `identity_digest` is a keyed digest of the elements asked about (name, birth date,
# gender): a changed identity is asked about again, a worker only touched is not.
verifications = Table(
    "verifications",
    metadata,
    Column("worker_id", Integer, ForeignKey("workers.id"), primary_key=True),
    Column("outcome", String(16), nullable=False),  # gateway/verify/elements.py VERDICTS
    Column("scores", JSON),  # {"name": 59, "birth_date": 100, ...}
    Column("elements", JSON),  # the elements below the threshold
    Column("code", String(8)),  # the service's answer code: "01", "11", ...
    Column("threshold", Integer, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("identity_digest", String(32), nullable=False),
    # workers.updated_at when asked: a later one is compared by digest (a wage change of a
    # worker one agency alone enrolls rewrites the record, not the identity).
    Column("identity_at", DateTime(timezone=True), nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Index("ix_verifications_outcome", "outcome"),
    Index("ix_verifications_checked_at", "checked_at"),
)

# Keyset paging of an agency's workers (WHERE agency = ? AND id > ? ORDER BY id) must not sort
# a million rows: the dashboard's agency page walks this index.
ix_enrollments_agency_id = Index("ix_enrollments_agency_id", enrollments.c.agency, enrollments.c.id)
# The overview groups runs by (agency, source) and reads each group's latest runs.
ix_runs_agency_source_id = Index(
    "ix_runs_agency_source_id", runs.c.agency, runs.c.source, runs.c.id
)

# -- delivery to BPJS (migration 0013, gateway/delivery/) ---------------------------------------

# How BPJS knows an agency as an employer (docs/domain.md §7): an NPP with its SIPP division,
# one per work unit chosen by `work_unit` (a pattern on the roster's work unit; NULL is the
# agency's fallback), or a collective registration (wadah) with its segment code.
employers = Table(
    "employers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agency", String(32), nullable=False),
    Column("kind", String(8), nullable=False),  # npp | wadah
    Column("npp", String(8), nullable=False),
    Column("division", String(8)),
    Column("segment", String(2)),  # wadah: SG | SD | SA | SL
    # The roster's work unit this employer takes ("Dinas Kesehatan", "Puskesmas *"); NULL: the
    # agency's workers no other rule of the agency takes. Stored normalised (lower case).
    Column("work_unit", Text),
    Column("name", Text),
    Column("destination", String(64), nullable=False),  # the destination plugin delivering it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_employers_agency", "agency"),
)

# The outbox: one row per thing BPJS must be told (gateway/delivery/mutations.py derives them),
# its state and BPJS's answer. `payload` holds the enrolled facts told (no NIK, no name: those
# are read from the worker and decrypted only when sent); `key` is the idempotency key.
mutations = Table(
    "mutations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(32), nullable=False, unique=True),
    Column("employer_id", Integer, ForeignKey("employers.id"), nullable=False),
    Column("enrollment_id", Integer, ForeignKey("enrollments.id"), nullable=False),
    Column("worker_id", Integer, ForeignKey("workers.id"), nullable=False),
    Column("agency", String(32), nullable=False),
    Column("kind", String(8), nullable=False),  # new | wage | identity | ended
    Column("month", String(7), nullable=False),  # the reporting month, "2026-12"
    Column("payload", JSON, nullable=False),
    # pending | sent | accepted | rejected | superseded (docs/delivery.md)
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("batch_id", Integer),  # a file destination's batch (delivery_batches)
    Column("kpj", String(16)),
    Column("reason_code", String(32)),
    Column("reason_id", Text),
    Column("reason_en", Text),
    Column("superseded_by", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("answered_at", DateTime(timezone=True)),
    Index("ix_mutations_employer_id_state", "employer_id", "state"),
    Index("ix_mutations_enrollment_id_id", "enrollment_id", "id"),
    Index("ix_mutations_worker_id_kpj", "worker_id", "kpj"),
    Index("ix_mutations_state_next_attempt_at", "state", "next_attempt_at"),
)

# A delivery: one destination, one or all employers; recorded as runs are, so a failed one
# is visible and safe to retry.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("destination", String(64), nullable=False),
    Column("employer_id", Integer),  # NULL: every employer of the destination
    Column("trigger", String(32), nullable=False),
    Column("actor", String(128)),
    Column("status", String(16), nullable=False),  # running | succeeded | failed | refused
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("counts", JSON),
    Column("owner", String(200)),
    Column("external_id", Text),
    Column("error", Text),
    Index("ix_deliveries_destination_id", "destination", "id"),
)

# Who is delivering for an employer now: one row per employer at most, so two deliveries at
# once for one employer are refused, not interleaved. A row whose process is gone is taken
# over (store/liveness.py).
delivery_locks = Table(
    "delivery_locks",
    metadata,
    Column("employer_id", Integer, primary_key=True, autoincrement=False),
    Column("delivery_id", Integer, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
)

# A file destination's batch: the workbooks written for one employer and month, marked
# uploaded by staff, then answered by BPJS's answer file.
delivery_batches = Table(
    "delivery_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("destination", String(64), nullable=False),
    Column("employer_id", Integer, ForeignKey("employers.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("state", String(12), nullable=False),  # writing | prepared | uploaded | answered
    Column("files", JSON, nullable=False),
    Column("mutations", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("uploaded_at", DateTime(timezone=True)),
    Column("uploaded_by", String(128)),
    Column("answered_at", DateTime(timezone=True)),
    Index("ix_delivery_batches_employer_id_month", "employer_id", "month"),
)

# Alerts raised (issue 20, gateway/alerts.py): one row per alert key, so the same alert (a
# late feed's missed due time, a run's unusual endings) is delivered once however many
# processes notice it, and again only after ALERT_REPEAT_HOURS. Never a NIK (masked in
# gateway/domain/alerts.py).
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(50), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("agency", String(32)),
    Column("title_id", String(300), nullable=False),
    Column("title_en", String(300), nullable=False),
    Column("details", JSON, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("times", Integer, nullable=False),
    Column("delivered", JSON, nullable=False),  # plugin names that took it, last time
    Column("failures", JSON, nullable=False),  # {plugin: error} of the last time
)

# -- BPJS's facts: membership lists, bills, payments (migration 0016, gateway/reconcile/) -----

# BPJS's membership list of an employer, as last received (a list is the employer's current
# state: a new one replaces the rows of the NPPs it covers). Matched to the registry by the
# NIK's blind index; the NIK and name are kept only encrypted, for the "registered at BPJS
# with no roster row" list.
bpjs_members = Table(
    "bpjs_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("npp", String(8), nullable=False),
    Column("nik_index", String(64), nullable=False),
    Column("nik_enc", Text, nullable=False),
    Column("name_enc", Text, nullable=False),
    Column("birth_date", Date),
    Column("kpj", String(11), nullable=False),
    Column("status", String(10), nullable=False),  # aktif | non-aktif
    Column("effective_date", Date, nullable=False),
    Column("wage", BigInteger),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    UniqueConstraint("npp", "nik_index"),
    Index("ix_bpjs_members_nik_index", "nik_index"),
)

# BPJS's bill (tagihan iuran) per employer or wadah and month: amounts per program.
bpjs_bills = Table(
    "bpjs_bills",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("npp", String(8), nullable=False),
    Column("month", String(7), nullable=False),  # "2026-03"
    Column("payment_code", String(16), nullable=False),  # kode iuran
    Column("amounts", JSON, nullable=False),  # {"jkk": n, "jkm": n, ...}
    Column("total", BigInteger, nullable=False),
    Column("due_date", Date),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    UniqueConstraint("npp", "month"),
    Index("ix_bpjs_bills_payment_code", "payment_code"),
)

# Payments against bills, by payment code (a bank statement or BPJS's receipt list).
bpjs_payments = Table(
    "bpjs_payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(64), nullable=False, unique=True),
    Column("payment_code", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Index("ix_bpjs_payments_payment_code", "payment_code"),
)

# Each gateway process's last sign of life, on PostgreSQL (store/liveness.py): its sweeper
# refreshes its row every SWEEP_SECONDS, so a run whose owner is on another machine or in
# another container (which no process here can check by pid) is failed minutes after its
# owner stopped beating, not after STALE_RUN_HOURS. Keyed like `runs.owner`.
process_heartbeats = Table(
    "process_heartbeats",
    metadata,
    Column("owner", String(200), primary_key=True),
    Column("beat_at", DateTime(timezone=True), nullable=False),
    Column("every_seconds", Integer, nullable=False),  # its SWEEP_SECONDS: silent after 3
)
