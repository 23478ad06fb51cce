"""Postgres and Redis of the stack's own: the installed binaries, temporary directories, ports.

Kept tools do the process work: ``pytest-postgresql``'s ``PostgreSQLExecutor`` (``initdb``
and ``pg_ctl`` through a mirakuru ``TCPExecutor``) and ``pytest-redis``'s ``RedisExecutor``
(``redis-server`` in the foreground, a mirakuru ``TCPExecutor``); ports come from ``port-for``
(free ones outside the ephemeral range, so below 32768 on Linux). What they do not do:

* **as root**, ``PostgreSQLExecutor`` runs ``pg_ctl initdb`` and ``pg_ctl start`` as root,
  which Postgres refuses ("cannot be run as root"), and it has no setting for the OS user.
  Here its ``pg_ctl`` is a two-line script that runs the real one as a user who is not root
  (``postgres`` if there is one, else ``nobody``) through ``runuser``, in a directory that
  user owns;
* one cluster serves several deployments: each gets a database of its own
  (:meth:`Postgres.create_database`), and a Redis DB number of its own (:meth:`Redis.uri`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import port_for
import psycopg
from psycopg import sql
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_redis.executor import RedisExecutor

from harness.apt import ensure_command

HOST = "127.0.0.1"
PG_SUPERUSER = "postgres"
REDIS_DATABASES = 64
"""Redis DB numbers: one per deployment (tests make several on one server)."""
START_TIMEOUT = 60


class Unavailable(RuntimeError):
    """Postgres or Redis cannot be had on this machine (and why)."""


def free_port() -> int:
    """A free port outside the ephemeral range (``port-for``)."""
    return int(port_for.select_random())


def pg_ctl_path() -> str:
    """The installed ``pg_ctl``: on the PATH, else the newest ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major_version)
    if not candidates:
        raise Unavailable(
            "PostgreSQL server binaries (pg_ctl, initdb) not found: install them "
            "(Debian: apt-get install postgresql)"
        )
    return candidates[-1]


def _major_version(pg_ctl: str) -> int:
    """15 for ``/usr/lib/postgresql/15/bin/pg_ctl``."""
    major = Path(pg_ctl).parts[-3]
    return int(major) if major.isdigit() else 0


def redis_server_path() -> str:
    """The installed ``redis-server`` (installed with apt first where that can be done)."""
    found, why = ensure_command("redis-server", "redis-server")
    if found is None:
        raise Unavailable(why)
    return found


def postgres_os_user() -> str | None:
    """Who runs Postgres: ``None`` (this user) unless root, else a user who is not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser") is None:
            raise Unavailable("running as root, and runuser (util-linux) is missing")
        return name
    raise Unavailable("running as root, and there is no user (postgres, nobody) to run Postgres")


def own_directory(prefix: str, user: str | None) -> Path:
    """A new temporary directory, owned by ``user`` if given."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


class Postgres:
    """A Postgres cluster in a temporary directory, on a free port, trust auth on 127.0.0.1."""

    def __init__(self, base: Path | None = None) -> None:
        """Find the binaries and the OS user; nothing starts yet."""
        self.os_user = postgres_os_user()
        real_pg_ctl = pg_ctl_path()
        self.directory = base or own_directory("stack-postgres-", self.os_user)
        self.port = free_port()
        pg_ctl = real_pg_ctl
        if self.os_user is not None:
            wrapper = self.directory / "pg_ctl"
            runuser = shutil.which("runuser")  # postgres_os_user() checked it is there
            wrapper.write_text(
                f'#!/bin/sh\nexec "{runuser}" -u {self.os_user} -- "{real_pg_ctl}" "$@"\n'
            )
            wrapper.chmod(0o755)
            pg_ctl = str(wrapper)
        self.executor = PostgreSQLExecutor(
            executable=pg_ctl,
            host=HOST,
            port=self.port,
            datadir=str(self.directory / "data"),
            unixsocketdir=str(self.directory),
            logfile=str(self.directory / "postgres.log"),
            startparams="-w",
            dbname="postgres",
            user=PG_SUPERUSER,
            timeout=START_TIMEOUT,
            # a test stack makes a few hundred connections (pools of every server process)
            postgres_options="-c max_connections=500 -c fsync=off -c listen_addresses=127.0.0.1",
        )
        self.databases: list[str] = []

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.directory / "postgres.log"

    def start(self) -> Postgres:
        """``initdb`` and start (``pg_ctl start -w``)."""
        self.executor.start()
        return self

    def stop(self) -> None:
        """``pg_ctl stop -m fast``, then remove the data directory."""
        if self.executor.running():
            self.executor.stop()
        self.executor.clean_directory()
        shutil.rmtree(self.directory, ignore_errors=True)

    def uri(self, database: str) -> str:
        """The ``DATABASE_URI`` of ``database``."""
        return f"postgresql://{PG_SUPERUSER}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name``; its URI."""
        with psycopg.connect(self.uri("postgres"), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.databases.append(name)
        return self.uri(name)


class Redis:
    """A Redis server in a temporary directory, on a free port, nothing saved to disk."""

    def __init__(self) -> None:
        """Find the binary; nothing starts yet."""
        executable = redis_server_path()
        self.directory = own_directory("stack-redis-", None)
        self.port = free_port()
        self.executor = RedisExecutor(
            executable=executable,
            databases=REDIS_DATABASES,
            redis_timeout=0,
            loglevel="notice",
            host=HOST,
            port=self.port,
            startup_timeout=START_TIMEOUT,
            save="",
            datadir=self.directory,
        )

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.directory / f"redis-server.{self.port}.log"

    def start(self) -> Redis:
        """Start ``redis-server``."""
        self.executor.start()
        return self

    def stop(self) -> None:
        """Stop it (its process group) and remove its directory."""
        if self.executor.running():
            self.executor.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def uri(self, db: int) -> str:
        """The ``REDIS_URI`` of DB number ``db``."""
        if not 0 <= db < REDIS_DATABASES:
            raise ValueError(f"Redis DB {db} is not in 0..{REDIS_DATABASES - 1}")
        return f"redis://{HOST}:{self.port}/{db}"
