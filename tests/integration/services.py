"""The real services on loopback the deployment tests use: PostgreSQL and Redis.

A test that needs one skips (naming the address) only when nothing listens there; a service
that answers but refuses what the test needs is a failure, not a skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

PG_HOST = os.environ.get("SALES_PIPELINE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SALES_PIPELINE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("SALES_PIPELINE_TEST_PG_USER", "postgres")
PG_MAINTENANCE_DB = os.environ.get("SALES_PIPELINE_TEST_PG_DB", "test")
REDIS_HOST = os.environ.get("SALES_PIPELINE_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("SALES_PIPELINE_TEST_REDIS_PORT", "6379"))
# A Redis database of its own, so the tests never see (or flush) another user's keys.
REDIS_DB = int(os.environ.get("SALES_PIPELINE_TEST_REDIS_DB", "11"))


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(host: str, port: int, what: str) -> None:
    if not _listening(host, port):
        pytest.skip(f"{what}: nothing listens on {host}:{port}")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the server (dropped afterwards, open connections too)."""
    require(PG_HOST, PG_PORT, "PostgreSQL")
    import psycopg2

    name = f"sales_pipeline_test_{uuid.uuid4().hex[:12]}"

    def admin(sql: str) -> None:
        conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_MAINTENANCE_DB)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_env(db_name: str) -> dict[str, str]:
    """The connection deploy/postgres/dagster.yaml reads (trust auth: empty password)."""
    return {
        "DAGSTER_PG_HOST": PG_HOST,
        "DAGSTER_PG_PORT": str(PG_PORT),
        "DAGSTER_PG_DB": db_name,
        "DAGSTER_PG_USER": PG_USER,
        "DAGSTER_PG_PASSWORD": "",
    }


def redis_url() -> str:
    require(REDIS_HOST, REDIS_PORT, "Redis")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
