"""Grain: one row per pair of person records (CRM contacts, sales customers) that Splink
scores at or above var match_probability_threshold (C360_MATCH_PROBABILITY): the optional
probabilistic identity layer (warehouse/matching.py). int_identity_edges turns each pair
into a shared key of type `match`, so a pair merges like any other shared key and the
customer keys stay as stable. Empty unless var probabilistic_matching is true
(C360_PROBABILISTIC_MATCHING=on)."""

import pyarrow as pa

from warehouse import matching

SCHEMA = pa.schema(
    [
        ("record_key_l", pa.string()),
        ("record_key_r", pa.string()),
        ("match_weight", pa.float64()),
        ("match_probability", pa.float64()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    candidates = dbt.ref("int_identity_match_candidates")
    if str(dbt.config.get("probabilistic_matching")).lower() not in ("true", "on", "1"):
        links = matching.no_links()
    else:
        frame = candidates.df().sort_values("record_key", ignore_index=True)
        links = matching.probabilistic_links(
            frame, float(dbt.config.get("match_probability_threshold"))
        )
    return pa.Table.from_pandas(links[SCHEMA.names], schema=SCHEMA, preserve_index=False)
