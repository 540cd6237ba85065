"""Synthetic, deterministic CRM exports with planted truth and planted bad input.

`generate` writes a landing zone (one folder per day, canonical / Salesforce / HubSpot / mixed
formats) plus `_generator/manifest.json` and `_generator/truth_accounts.csv`;
`write_opportunities_benchmark` writes one large canonical opportunities export.
"""

from crm_generator.benchmark import write_opportunities_benchmark
from crm_generator.manifest import FileRecord, Manifest
from crm_generator.zone import generate

__all__ = ["FileRecord", "Manifest", "generate", "write_opportunities_benchmark"]
