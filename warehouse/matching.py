"""Probabilistic record linkage with Splink (Fellegi-Sunter, trained without labels): the
optional identity layer that finds the same person behind records no shared key links,
such as a contact typed in again with a typo in the email and no phone.

Splink (v4, maintained by the UK Ministry of Justice) was chosen over hand-written fuzzy
rules because it estimates how much each agreement is worth from the data itself (u by
random sampling, m by expectation maximisation) and records the match weight of every
pair, so a link can be explained. It runs on DuckDB, in memory, beside the warehouse.

Records are compared on first and last name (Jaro-Winkler levels), email (exact, then
by edit distance), phone and country. Pairs are only scored inside blocks that share
something: the last name and the first two letters of the first name, or the last name
and its last two letters (a one-letter typo in a first name leaves one of the two
intact), or the phone. That keeps the work near-linear in records (a last name with a
first-name prefix is shared by few people) where comparing all pairs would be
quadratic.
"""

from __future__ import annotations

import duckdb
import pandas as pd

LINK_COLUMNS = ["record_key_l", "record_key_r", "match_weight", "match_probability"]
COMPARED = ["first_name", "last_name", "email", "phone", "country"]


def no_links() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_key_l": pd.Series(dtype="string"),
            "record_key_r": pd.Series(dtype="string"),
            "match_weight": pd.Series(dtype="float64"),
            "match_probability": pd.Series(dtype="float64"),
        }
    )


def probabilistic_links(
    records: pd.DataFrame, min_probability: float, seed: int = 1
) -> pd.DataFrame:
    """Pairs of ``records`` (columns record_key + COMPARED) that Splink scores at or above
    ``min_probability``, with their match weight, ordered so record_key_l < record_key_r."""
    people = records.dropna(subset=["first_name", "last_name"], how="all")
    if len(people) < 2:
        return no_links()
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = people[["record_key", *COMPARED]].copy()
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("last_name", "substr(first_name, 1, 2)"),
            block_on("last_name", "right(first_name, 2)"),
            block_on("phone"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    with duckdb.connect() as con:
        linker = Linker(frame, settings, db_api=DuckDBAPI(connection=con))
        # how likely two random records are the same person, from the pairs that share an
        # email or a phone (most of them are); then u from random pairs, m by EM
        linker.training.estimate_probability_two_random_records_match(
            [block_on("email"), block_on("phone")], recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("first_name", "last_name")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
        pairs = linker.inference.predict(threshold_match_probability=min_probability)
        links = pairs.as_pandas_dataframe()
    if links.empty:
        return no_links()
    left = links[["record_key_l", "record_key_r"]].min(axis=1)
    right = links[["record_key_l", "record_key_r"]].max(axis=1)
    out = pd.DataFrame(
        {
            "record_key_l": left,
            "record_key_r": right,
            "match_weight": links["match_weight"].round(6),
            "match_probability": links["match_probability"].round(6),
        }
    )
    return out.sort_values(["record_key_l", "record_key_r"], ignore_index=True)
