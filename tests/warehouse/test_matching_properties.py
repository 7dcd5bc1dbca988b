"""Property-based tests (Hypothesis) of the probabilistic matching (Splink) on random small
and degenerate record sets: no pair sharing an email or a phone, every record alike,
names missing, two records. Whatever the data, it gives well-formed links or none (not
fitted, with a warning saying why) and never raises: a raise would fail the dbt model and
with it the whole run, for a layer that is optional."""

import logging

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.matching import LINK_COLUMNS, probabilistic_links

# few values, so records agree often (and sometimes on everything)
record = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from([None, "ann", "anne", "bo", ""]),
        "last_name": st.sampled_from([None, "lee", "leigh", "wu"]),
        "email": st.sampled_from([None, "ann.lee@example.com", "ann.lee1@example.com"]),
        "phone": st.sampled_from([None, "+13125550100", "+13125550101"]),
        "country": st.sampled_from([None, "US", "GB"]),
    }
)


@st.composite
def record_sets(draw):
    rows = draw(st.lists(record, min_size=0, max_size=8))
    if draw(st.booleans()) and rows:  # every record alike: a degenerate sample
        rows = [rows[0]] * len(rows)
    frame = pd.DataFrame(rows, columns=["first_name", "last_name", "email", "phone", "country"])
    frame.insert(0, "record_key", [f"crm_contact:{i}" for i in range(len(rows))])
    return frame


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(records=record_sets())
def test_matching_gives_well_formed_links_or_none_on_any_small_sample(records):
    links = probabilistic_links(records, 0.99)
    assert list(links.columns) == LINK_COLUMNS
    keys = set(records["record_key"])
    assert set(links["record_key_l"]) | set(links["record_key_r"]) <= keys
    assert (links["record_key_l"] < links["record_key_r"]).all()
    assert links["match_probability"].between(0.99, 1).all()
    assert not links.duplicated(["record_key_l", "record_key_r"]).any()


def test_an_untrainable_sample_is_not_fitted_and_says_why(caplog):
    # two strangers: no pair shares an email or a phone, nor a full name, to train on
    strangers = pd.DataFrame(
        {
            "record_key": ["crm_contact:a", "crm_contact:b"],
            "first_name": ["ann", "bo"],
            "last_name": ["lee", "wu"],
            "email": ["a@example.com", "b@example.org"],
            "phone": ["+13125550100", "+442079460958"],
            "country": ["US", "GB"],
        }
    )
    with caplog.at_level(logging.WARNING, logger="warehouse.matching"):
        links = probabilistic_links(strangers, 0.99)
    assert links.empty and list(links.columns) == LINK_COLUMNS
    assert "probabilistic matching not fitted on 2 records" in caplog.text
