"""When a build may build on the last one: rows of incremental models are only a base for
the same code and the same settings dbt reads."""

import duckdb

from orchestration.lib.build_state import (
    full_refresh_reason,
    incremental_basis,
    record_dbt_invocation,
)

VARS = {"probabilistic_matching": False, "clv_holdout_weeks": 26}


def test_a_changed_setting_rebuilds_the_incremental_models_from_raw():
    con = duckdb.connect()
    assert full_refresh_reason(con, incremental_basis("code", VARS), False) is not None
    record_dbt_invocation(con, "run-1", incremental_basis("code", VARS), False, True)
    # same code, same settings: the next build builds on this one
    assert full_refresh_reason(con, incremental_basis("code", dict(VARS)), False) is None
    # matching switched on: every identity row was built without it
    switched = incremental_basis("code", {**VARS, "probabilistic_matching": True})
    assert "settings" in full_refresh_reason(con, switched, False)
    assert full_refresh_reason(con, incremental_basis("other code", VARS), False) is not None
    assert full_refresh_reason(con, incremental_basis("code", VARS), True) is not None
