"""Key accounts on generated data: the champions the generator plants as key accounts (5M a year,
a first order years back) are exactly the accounts `customer_segments` flags."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.model_logic import build_customer_segments
from tests.integration.pipeline_fixture import build_generated_warehouse

PLANTED = 3


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return build_generated_warehouse(
        tmp_path_factory.mktemp("key"), days=3, accounts=80, seed=4, key_accounts=PLANTED
    )


def test_the_planted_key_accounts_are_found_and_nothing_else(generated):
    truth = generated.truth.set_index("account_id")["planted_key_account"].astype(bool)
    assert truth.sum() == PLANTED
    table = build_customer_segments(generated.snapshot()).tables["customer_segments"]
    flagged = set(table.loc[table["is_key_account"].astype(bool), "account_id"])
    assert flagged == set(truth[truth].index)


def test_a_zone_without_the_option_has_no_planted_column(tmp_path):
    from crm_generator import generate

    generate(tmp_path, days=1, accounts=20, seed=4)
    truth = pd.read_csv(tmp_path / "_generator" / "truth_accounts.csv")
    assert "planted_key_account" not in truth.columns
