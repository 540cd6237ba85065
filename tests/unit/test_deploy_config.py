"""The deployment files under deploy/ are valid for the tools that read them, carry the run
queue the code relies on, and hold no secret."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config

from sales_pipeline.jobs import (
    BACKFILL_CONCURRENCY_TAG,
    BACKFILL_RUN_LIMIT,
    DAILY_JOB,
    PARTITION_CONCURRENCY_TAG,
)
from sales_pipeline.runner import INSTANCE_YAML

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PG_ENV = {
    "DAGSTER_PG_HOST": "db.example",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "",
}
EXPECTED_LIMITS = [
    {"key": PARTITION_CONCURRENCY_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
    {
        "key": BACKFILL_CONCURRENCY_TAG,
        "value": {"applyLimitPerUniqueValue": True},
        "limit": BACKFILL_RUN_LIMIT,
    },
]


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _instance_with(config: dict, home: Path) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return dg.DagsterInstance.from_config(str(home))


@pytest.mark.parametrize("source", ["runner.INSTANCE_YAML", "deploy/postgres/dagster.yaml"])
def test_instance_yaml_queues_one_run_per_partition(source, tmp_path, monkeypatch):
    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    text = INSTANCE_YAML if source.startswith("runner") else (ROOT / source).read_text()
    (tmp_path / "dagster.yaml").write_text(text, encoding="utf-8")
    dagster_instance_config(str(tmp_path))  # the whole file against Dagster's instance schema
    # Load it for real (storage aside: Postgres is the integration test's job) and read the
    # queue back from the instance.
    config = {k: v for k, v in yaml.safe_load(text).items() if k != "storage"}
    with _instance_with(config, tmp_path / "home") as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 4
        assert list(queue.tag_concurrency_limits) == EXPECTED_LIMITS


def test_postgres_yaml_connection_comes_from_env_only(monkeypatch):
    from dagster_postgres import PostgresRunStorage

    storage = _load(DEPLOY / "postgres" / "dagster.yaml")["storage"]["postgres"]
    db = storage["postgres_db"]
    assert all(db[field] == {"env": env} for field, env in _PG_FIELDS.items()), db
    assert db["scheme"] == "postgresql+psycopg2"
    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    result = validate_config(PostgresRunStorage.config_type(), storage)
    assert result.success, result.errors


_PG_FIELDS = {
    "hostname": "DAGSTER_PG_HOST",
    "port": "DAGSTER_PG_PORT",
    "db_name": "DAGSTER_PG_DB",
    "username": "DAGSTER_PG_USER",
    "password": "DAGSTER_PG_PASSWORD",
}


def test_celery_worker_yaml_is_the_executor_config_of_the_distributed_location(monkeypatch):
    from dagster_celery.cli import get_validated_config

    from sales_pipeline.distributed import BACKEND_ENV, BROKER_ENV, CELERY_CONFIG_SOURCE

    monkeypatch.setenv(BROKER_ENV, "redis://broker.example:6379/0")
    monkeypatch.setenv(BACKEND_ENV, "redis://broker.example:6379/1")
    config = get_validated_config(str(DEPLOY / "celery" / "celery.yaml"))
    assert config["broker"] == "redis://broker.example:6379/0"
    assert config["backend"] == "redis://broker.example:6379/1"
    assert config["config_source"] == CELERY_CONFIG_SOURCE


def test_distributed_location_runs_every_job_on_celery_and_the_default_does_not():
    from sales_pipeline.definitions import defs as default_defs
    from sales_pipeline.distributed import defs as distributed_defs

    job = distributed_defs().resolve_job_def(DAILY_JOB)
    assert job.executor_def.name == "celery"
    assert default_defs().resolve_job_def(DAILY_JOB).executor_def.name != "celery"


def test_default_code_path_never_imports_the_deploy_extra():
    """`pip install .` has no dagster-postgres / dagster-celery: the CLI and the default code
    location must load without them."""
    code = (
        "import sys\n"
        "import sales_pipeline.cli, sales_pipeline.runner\n"
        "from sales_pipeline.definitions import defs\n"
        "defs().resolve_job_def('daily_job')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dagster_postgres', 'dagster_celery', 'celery', 'psycopg2', 'redis', 'dagster_k8s'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- Kubernetes ---------------------------------------------------------------------------

SECRET_WORDS = re.compile(r"(password|secret|token|pii|api_?key|hmac)", re.IGNORECASE)


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield path + (str(key),), value
            yield from _walk(value, path + (str(key),))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, path + (str(index),))


def test_helm_values_serve_the_project_with_the_k8s_run_launcher():
    values = _load(DEPLOY / "k8s" / "values.yaml")
    user = values["dagster-user-deployments"]
    assert user["enabled"] is True
    (deployment,) = user["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    assert args[args.index("--module-name") + 1] == "sales_pipeline.definitions"
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    assert coordinator["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"] == EXPECTED_LIMITS
    env = {item["name"]: item for item in deployment["env"]}
    assert env["SALES_PIPELINE_PII_KEY"]["valueFrom"]["secretKeyRef"]["key"]


def test_helm_values_hold_no_secret_literal():
    values = _load(DEPLOY / "k8s" / "values.yaml")
    # The Postgres password only from an existing Secret, never generated from a value here.
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    offenders = []
    for path, value in _walk(values):
        if path[-1] in ("postgresqlPassword", "password") or (
            isinstance(value, str) and path[-1] == "value" and SECRET_WORDS.search(value)
        ):
            offenders.append(path)
    for _, value in _walk(values):
        # Every env var whose name says secret has no literal value, only a secretKeyRef.
        if isinstance(value, dict) and SECRET_WORDS.search(str(value.get("name", ""))):
            if "valueFrom" in value or "secretKeyRef" in value:
                assert "value" not in value, value
            elif "value" in value:
                offenders.append(value["name"])
    assert not offenders, offenders


def test_user_code_image_installs_the_k8s_extra_and_serves_the_module():
    dockerfile = (DEPLOY / "k8s" / "Dockerfile").read_text(encoding="utf-8")
    assert 'pip install ".[k8s]"' in dockerfile
    assert "sales_pipeline.definitions" in dockerfile
    assert not SECRET_WORDS.search(
        "\n".join(line for line in dockerfile.splitlines() if line.startswith(("ENV", "ARG")))
    )
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"dagster-k8s[><=]', pyproject)
