"""The optional probabilistic identity layer (Splink): demo data with planted typo
duplicates (a CRM contact typed in again, one letter of the email wrong, no phone), the
whole pipeline with C360_PROBABILISTIC_MATCHING=on, and the merged pairs of records
against the generator's ground truth."""

import os

import pandas as pd
import pytest

from ingestion.demo.generator import GenerateOptions, generate
from orchestration.runner import run_pipeline
from warehouse.connection import connection


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    root = tmp_path_factory.mktemp("matching")
    landing = root / "landing"
    generate(GenerateOptions(out=landing, scale=0.005, seed=11, typo_duplicates=0.08))
    warehouse = root / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("C360_PROBABILISTIC_MATCHING", "on")
        assert run_pipeline(landing=landing, warehouse=warehouse)
    assert "C360_PROBABILISTIC_MATCHING" not in os.environ
    return landing, warehouse


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def test_merged_pairs_match_the_planted_truth(matched):
    landing, warehouse = matched
    truth = pd.read_csv(landing / "_truth/identity.csv", dtype=str)
    planted = pd.read_csv(landing / "_truth/typo_duplicates.csv", dtype=str)
    with connection(warehouse, read_only=True) as con:
        mapped = con.execute(
            "select record_source, record_id, customer_key, linked_by, match_weight "
            "from marts.customer_identity_map"
        ).df()
        lowest = con.execute(
            "select min(match_probability) from intermediate.int_identity_probabilistic_links"
        ).fetchone()[0]
    joined = truth.merge(
        mapped, left_on=["source", "record_id"], right_on=["record_source", "record_id"]
    )
    true_positive = _pairs(joined.groupby(["person_id", "customer_key"]).size())
    precision = true_positive / _pairs(joined.groupby("customer_key").size())
    recall = true_positive / _pairs(joined.groupby("person_id").size())
    copies = mapped[mapped["record_source"] == "crm_contact"].set_index("record_id")
    merged = [
        copies.at[copy, "customer_key"] == copies.at[original, "customer_key"]
        for copy, original in zip(planted["record_id"], planted["original_id"], strict=True)
    ]
    print(
        f"probabilistic matching: precision {precision:.4f}, recall {recall:.4f}; "
        f"{sum(merged)} of {len(merged)} typo copies merged with their original"
    )
    assert precision >= 0.98 and recall >= 0.98
    assert len(planted) >= 20 and sum(merged) / len(merged) >= 0.9
    # the copies share no key with their originals: the match layer merged them, and the
    # identity map says so, with the match weight
    linked = copies.loc[planted["record_id"][merged]]
    assert linked["linked_by"].str.contains("match").all()
    assert linked["match_weight"].notna().all()
    assert lowest >= 0.99


def test_matching_is_off_by_default(demo_build):
    _, warehouse = demo_build
    with connection(warehouse, read_only=True) as con:
        links = con.execute(
            "select count(*) from intermediate.int_identity_probabilistic_links"
        ).fetchone()[0]
        matched = con.execute(
            "select count(*) from marts.customer_identity_map "
            "where linked_by like '%match%' or match_weight is not null"
        ).fetchone()[0]
    assert links == 0 and matched == 0
