"""Imports go one way: schemas <- core <- assets <- orchestration; the generator stands apart.

A reader (and a reviewer) can trust the layout: a module never reaches up a layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = ("schemas", "assets", "sales_pipeline", "crm_generator")

# package prefix -> first-party prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "schemas": ("assets", "sales_pipeline", "crm_generator", "dagster"),
    "sales_pipeline.core": (
        "assets",
        "crm_generator",
        *(
            f"sales_pipeline.{m}"
            for m in ("definitions", "jobs", "schedules", "sensors", "runner", "cli")
        ),
    ),
    "assets": (
        "crm_generator",
        *(
            f"sales_pipeline.{m}"
            for m in ("definitions", "jobs", "schedules", "sensors", "runner", "cli")
        ),
    ),
    "crm_generator": ("schemas", "assets", "sales_pipeline", "dagster"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules() -> list[Path]:
    return sorted(p for top in TOP_LEVEL for p in (ROOT / top).rglob("*.py"))


def _rule(module: str) -> tuple[str, ...]:
    matches = [
        prefix for prefix in FORBIDDEN if module == prefix or module.startswith(prefix + ".")
    ]
    return FORBIDDEN[max(matches, key=len)] if matches else ()


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_downwards(path: Path) -> None:
    module = _module_name(path)
    forbidden = _rule(module)
    bad = sorted(
        name
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )
    assert not bad, f"{module} imports {bad}, which sit above it or outside its layer"


def test_the_rules_bite() -> None:
    """The checker itself finds an upward import (so a green run means something)."""
    assert _rule("sales_pipeline.core.warehouse") == FORBIDDEN["sales_pipeline.core"]
    assert any(
        n.startswith("sales_pipeline.definitions")
        for n in _imports(ROOT / "sales_pipeline" / "cli.py")
    ) or any(
        n.startswith("sales_pipeline.runner") for n in _imports(ROOT / "sales_pipeline" / "cli.py")
    )


def test_generator_vocabulary_matches_the_contract() -> None:
    """The generator keeps its own copy of the contract's vocabulary; it must not drift."""
    from crm_generator import catalog
    from schemas.columns import STAGES
    from schemas.ingest import ROW_REASONS

    assert catalog.STAGES == STAGES
    assert catalog.ROW_REASONS == ROW_REASONS
