"""The two column declarations agree: the contract's input columns (`schemas.columns`, with what is
required) and the output tables (`schemas.ingest`, from which cleaning derives what it parses)."""

from assets.ingest.cleaning import _input_columns
from schemas import TABLES
from schemas.columns import CANONICAL_COLUMNS, required_columns
from schemas.ingest import REQUIRED_INPUT

# Every entity table carries the version columns (README decisions), inputs or not.
VERSION_COLUMNS = {"updated_at", "is_deleted"}


def test_every_contract_input_column_is_parsed_and_nothing_else():
    for entity, columns in CANONICAL_COLUMNS.items():
        parsed = {name for name, _ in _input_columns(entity)}
        assert set(columns) <= parsed, entity
        assert parsed - set(columns) <= VERSION_COLUMNS, entity


def test_required_inputs_are_derived_once():
    for entity in CANONICAL_COLUMNS:
        assert REQUIRED_INPUT[entity] == tuple(required_columns(entity))
        table = TABLES[entity]
        for name in REQUIRED_INPUT[entity]:
            stored = name if name in table.column_names else f"{name}_hash"
            assert stored in table.column_names, (entity, name)
