"""Probabilistic record linkage with Splink (Fellegi-Sunter, trained without labels): the
optional identity layer that finds the same person behind records no shared key links,
such as a contact typed in again with a typo in the email and no phone.

Splink (v4, maintained by the UK Ministry of Justice) was chosen over hand-written fuzzy
rules because it estimates how much each agreement is worth from the data itself (u by
random sampling, m by expectation maximisation) and records the match weight of every
pair, so a link can be explained. It runs on DuckDB, in memory, beside the warehouse.

Records are compared on first and last name (Jaro-Winkler levels), email, phone and
country. The email comparison reads an address as letters and a number: one letter off
with the same number is how a retyped address looks, while the same letters with another
number (``jo.smith12@`` against ``jo.smith17@``) is how namesakes' addresses look, and
that level earns a weight of its own (measured at a million contacts, a plain edit
distance took those namesakes for typos). Pairs are only scored inside blocks that share
something: the last name and the first two letters of the first name, or the last name
and its last two letters (a one-letter typo in a first name leaves one of the two
intact), or the phone. That keeps the work near-linear in records (a last name with a
first-name prefix is shared by few people) where comparing all pairs would be
quadratic.
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

log = logging.getLogger(__name__)

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


def email_comparison():
    """Levels of agreement between two emails, strongest first (see the module docstring):
    the number in an address tells namesakes apart where edit distance cannot."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def number(side: str) -> str:
        return f"regexp_replace(email_{side}, '[^0-9]', '', 'g')"

    def letters(side: str) -> str:
        return f"regexp_replace(email_{side}, '[0-9]', '', 'g')"

    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.CustomLevel(
                f"levenshtein(email_l, email_r) <= 1 and {number('l')} = {number('r')}",
                "one letter off, same number",
            ),
            # a letter typed over a digit; never the same letters with another number
            cll.CustomLevel(
                f"levenshtein(email_l, email_r) <= 1 and {letters('l')} <> {letters('r')}",
                "one character off, letters differ",
            ),
            cll.ElseLevel(),
        ],
    )


U_SAMPLE_PAIRS = 1_000_000


def with_unseen_levels_bounded(model: dict) -> dict:
    """``model`` with a u for every level the random sample never saw (an exact email
    between strangers, say): 3 / pairs sampled, the 95% upper bound on a chance that gave
    no event in that many trials (the rule of three). Splink would leave such a level
    without a weight, so a retyped email would count for nothing."""
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level") and level.get("u_probability") is None:
                level["u_probability"] = 3 / U_SAMPLE_PAIRS
    return model


def probabilistic_links(
    records: pd.DataFrame, min_probability: float, seed: int = 1
) -> pd.DataFrame:
    """Pairs of ``records`` (columns record_key + COMPARED) that Splink scores at or above
    ``min_probability``, with their match weight, ordered so record_key_l < record_key_r.

    On data the model cannot be trained on (no pair sharing an email or a phone to
    estimate from, a training block with no pairs, every pair agreeing), it is not
    fitted: no links, and a warning saying why (the run goes on with the exact keys)."""
    people = records.dropna(subset=["first_name", "last_name"], how="all")
    if len(people) < 2:
        return no_links()
    from splink.internals.exceptions import SplinkException

    try:
        return _trained_links(people, min_probability, seed)
    except (SplinkException, ValueError) as exc:
        # Splink's "cannot train on this" errors; any other ValueError is a defect
        if isinstance(exc, ValueError) and "recall" not in str(exc):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning(
            "probabilistic matching not fitted on %s records, no links: %s", len(people), reason
        )
        return no_links()


def _trained_links(people: pd.DataFrame, min_probability: float, seed: int) -> pd.DataFrame:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = people[["record_key", *COMPARED]].copy()
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            email_comparison(),
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
        # email or a phone (most of them are); then u from random pairs, m by EM in three
        # blocks, each leaving free what the others hold fixed: same full name (trains
        # email, phone, country), same last name and email start (first-name typos),
        # same email (last names)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("email"), block_on("phone")], recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=seed)
        linker = Linker(
            frame,
            with_unseen_levels_bounded(linker.misc.save_model_to_json()),
            db_api=DuckDBAPI(connection=con),
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("first_name", "last_name")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("last_name", "substr(email, 1, 3)")
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
