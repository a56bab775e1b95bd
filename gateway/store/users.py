"""Staff users of the compliance dashboard: scrypt-hashed passwords and lock-out.

Agencies submit with API keys; these are the people of docs/design.md §7's "compliance
viewer" and "operator" roles, and the "regional viewer" bound to one agency (`agency`: a
ministry code or a government's region code; None is the national view). A bound user reads
that agency only: a province's user reads the province government's own roster, not its
regencies' (each regency is a government, with its own roster and budget). A password is
stored only as werkzeug's scrypt hash (salted, memory-hard). After MAX_FAILURES consecutive
wrong passwords the account is locked for LOCKOUT, whatever is typed next, so guessing a
password online takes years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.clock import aware
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.store import audit
from gateway.store.db import writing
from gateway.store.tables import users

ROLES = ("viewer", "operator")
MIN_PASSWORD_LENGTH = 10
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Checked when the user is unknown, so a wrong username costs the same time as a wrong
# password and the response time does not tell which usernames exist.
_DUMMY_HASH = generate_password_hash("not-a-password-of-anyone", method="scrypt")


class UserError(ValueError):
    """A user cannot be created as asked; the message is in both languages."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    display_name: str | None
    sessions_since: datetime | None = None  # sessions begun before this are over (logout)
    agency: str | None = None  # the one agency it may read; None: national (every agency)

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def may_read(self, agency: str) -> bool:
        """Whether the user may see `agency`'s data: every agency nationally, else only its
        own (the code exactly: a province's user does not read its regencies)."""
        return self.agency is None or agency == self.agency


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    outcome: str  # ok | invalid | locked
    locked_until: datetime | None = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def _user(row: dict) -> User:
    return User(row["id"], row["username"], row["role"], row["display_name"],
                aware(row.get("sessions_since")), row.get("agency"))  # fmt: skip


def scope_code(agency: str | None, *, role: str = "viewer") -> str | None:
    """The agency code a user is bound to, as the gateway writes it ("1505" is 15.05,
    "KEMENKES" kemenkes), or None for the national view. An operator manages keys and syncs
    of every agency (docs/design.md §7), so it is never bound to one."""
    if agency is None or not agency.strip():
        return None
    if role == "operator":
        raise UserError(
            "operator bekerja secara nasional, tidak terikat satu instansi / an operator works "
            "nationally and is not bound to one agency"
        )
    try:
        return resolve_agency(agency).code
    except UnknownAgency as exc:
        raise UserError(f"{exc.message_id} / {exc}") from exc


def end_sessions(engine: Engine, user_id: int) -> None:
    """Logout: every session of the user begun until now is over, on every computer (the
    session is a signed cookie: clearing it in one browser left any copy of it valid)."""
    with writing(engine) as conn:
        conn.execute(
            update(users).where(users.c.id == user_id).values(sessions_since=datetime.now(UTC))
        )


def create_user(
    engine: Engine,
    username: str,
    password: str,
    *,
    role: str = "viewer",
    display_name: str | None = None,
    agency: str | None = None,
) -> User:
    username = username.strip().lower()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError(
            "nama pengguna 1-64 karakter tanpa spasi / a username is 1-64 characters, no spaces"
        )
    if role not in ROLES:
        raise UserError(f"peran harus salah satu dari / role must be one of: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise UserError(
            f"kata sandi minimal {MIN_PASSWORD_LENGTH} karakter, tidak hanya spasi / a password "
            f"needs at least {MIN_PASSWORD_LENGTH} characters, not only spaces"
        )
    agency = scope_code(agency, role=role)
    try:
        with writing(engine) as conn:
            user_id = conn.execute(
                insert(users)
                .values(
                    username=username,
                    password_hash=hash_password(password),
                    role=role,
                    display_name=display_name,
                    created_at=datetime.now(UTC),
                    agency=agency,
                )
                .returning(users.c.id)
            ).scalar_one()
            audit.append(
                conn,
                actor="cli",
                action="user_created",
                subject=f"user:{username}",
                details={"role": role, "agency": agency or "national"},
            )
    except IntegrityError as exc:
        raise UserError(
            f"pengguna {username!r} sudah ada / user {username!r} already exists"
        ) from exc
    return User(user_id, username, role, display_name, agency=agency)


def set_agency(engine: Engine, username: str, agency: str | None) -> User | None:
    """Bind a user to one agency, or (None) give it the national view; effective at its next
    request, since every request reads the user again. None when there is no such user."""
    name = username.strip().lower()
    with writing(engine) as conn:
        row = conn.execute(select(users).where(users.c.username == name)).mappings().first()
        if row is None:
            return None
        code = scope_code(agency, role=row["role"])
        conn.execute(update(users).where(users.c.id == row["id"]).values(agency=code))
        audit.append(conn, actor="cli", action="user_scope_changed", subject=f"user:{name}",
                     details={"from": row["agency"] or "national", "to": code or "national"})
    return _user({**row, "agency": code})


def get_user(engine: Engine, user_id: int) -> User | None:
    """An enabled user by id (a disabled one ends every session it had)."""
    with engine.connect() as conn:
        row = (
            conn.execute(select(users).where(users.c.id == user_id, users.c.disabled_at.is_(None)))
            .mappings()
            .first()
        )
    return _user(dict(row)) if row else None


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        query = select(
            users.c.username,
            users.c.role,
            users.c.display_name,
            users.c.agency,
            users.c.locked_until,
            users.c.last_login_at,
            users.c.disabled_at,
        ).order_by(users.c.username)
        return [dict(r) for r in conn.execute(query).mappings()]


def authenticate(
    engine: Engine, username: str, password: str, *, now: datetime | None = None
) -> LoginResult:
    """Check a login. A locked account is refused without looking at the password."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(users).where(
                    users.c.username == username.strip().lower(), users.c.disabled_at.is_(None)
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(None, "invalid")
    locked = aware(row["locked_until"])
    if locked is not None and locked > now:
        return LoginResult(None, "locked", locked)
    if not check_password_hash(row["password_hash"], password):
        return _failed(engine, row["id"], now)
    with writing(engine) as conn:
        conn.execute(
            update(users)
            .where(users.c.id == row["id"])
            .values(failed_logins=0, locked_until=None, last_login_at=now)
        )
        audit.append(conn, actor=row["username"], action="login", subject=f"user:{row['username']}")
    return LoginResult(_user(dict(row)), "ok")


def _failed(engine: Engine, user_id: int, now: datetime) -> LoginResult:
    # Incremented in the database, not read-modify-written: parallel guesses from several
    # gunicorn workers all count.
    with writing(engine) as conn:
        failures = conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(failed_logins=users.c.failed_logins + 1)
            .returning(users.c.failed_logins)
        ).scalar_one()
        audit.append(
            conn,
            actor="anonymous",
            action="login_failed",
            subject=f"user_id:{user_id}",
            details={"failures": failures},
        )
        if failures >= MAX_FAILURES:
            until = now + LOCKOUT
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(failed_logins=0, locked_until=until)
            )
            return LoginResult(None, "locked", until)
    return LoginResult(None, "invalid")


def unlock(engine: Engine, username: str) -> bool:
    with writing(engine) as conn:
        done = bool(
            conn.execute(
                update(users)
                .where(users.c.username == username.strip().lower())
                .values(failed_logins=0, locked_until=None)
            ).rowcount
        )
        if done:
            audit.append(
                conn,
                actor="cli",
                action="user_unlocked",
                subject=f"user:{username.strip().lower()}",
            )
        return done


def set_disabled(engine: Engine, username: str, disabled: bool) -> bool:
    """Disable a user (a leaver: their sessions end at their next request, and they cannot log
    in) or enable them again; False when there is no such user."""
    name = username.strip().lower()
    with writing(engine) as conn:
        done = bool(
            conn.execute(
                update(users)
                .where(users.c.username == name)
                .values(disabled_at=datetime.now(UTC) if disabled else None)
            ).rowcount
        )
        if done:
            action = "user_disabled" if disabled else "user_enabled"
            audit.append(conn, actor="cli", action=action, subject=f"user:{name}")
        return done


def count_users(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(users)).scalar_one()
