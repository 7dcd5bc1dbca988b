"""The Great Expectations expectations of each suite, built when a validation runs.

Only this module (and the runner that calls it) imports GX, so loading the Dagster
definitions does not pay GX's import. Each builder takes the suite it builds (raw suites
carry their contract) and what the run knows besides the table (``QualityContext``).

GX guards the edges and checks what dbt cannot see: the contract rules on raw before
anything is built, volume against the last run, freshness against the delivery cadence,
reconciliation across marts and distributions. Row-level rules inside the DAG (keys
unique and not null, accepted values, one current stage) are dbt tests and are not
repeated here.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from ingestion.contracts import Contract
from quality.suites import QualityContext, SuiteSpec


def raw_contract_rules(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    contract: Contract = suite.contract
    expectations: list[gxe.Expectation] = []
    for column in contract.columns:
        if not column.nullable:
            expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column.name))
        if column.accepted_values:
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=column.name, value_set=list(column.accepted_values)
                )
            )
        if column.min is not None or column.max is not None:
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column.name, min_value=column.min, max_value=column.max
                )
            )
    # Raw is history: a key may repeat across loads and cursor values, never within one.
    expectations.append(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=[
                *contract.primary_key,
                *([contract.cursor] if contract.cursor else []),
                "_load_id",
            ]
        )
    )
    return expectations


def raw_volume_and_timeliness(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    contract: Contract = suite.contract
    expectations: list[gxe.Expectation] = []
    previous = ctx.previous_row_counts.get(f"raw.{contract.name}")
    # Raw is append-only: fewer rows than last run means something deleted history.
    expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=previous or 0, max_value=None))
    if contract.freshness_hours:
        # Freshness: the source's documented delivery cadence (contract freshness_hours)
        # against the wall clock; a stale source warns, it does not block.
        expectations.append(
            gxe.UnexpectedRowsExpectation(
                description=f"{contract.name} delivered within its cadence of "
                f"{contract.freshness_hours} hours",
                unexpected_rows_query=(
                    "select * from (select max(_loaded_at) as last_delivery from {batch}) as d "
                    f"where d.last_delivery < now()::timestamp - interval {contract.freshness_hours} hour"
                ),
            )
        )
    for column in contract.columns:
        if column.type == "timestamp":
            expectations.append(
                gxe.UnexpectedRowsExpectation(
                    description=f"{column.name} is not in the future beyond "
                    f"{ctx.future_tolerance_days} day(s)",
                    unexpected_rows_query=(
                        f"select * from {{batch}} where {column.name} > "
                        f"now()::timestamp + interval {ctx.future_tolerance_days} day"
                    ),
                )
            )
    return expectations


def dim_customer_360(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(column="latest_nps_score", min_value=0, max_value=10),
        gxe.ExpectColumnValuesToBeBetween(column="avg_csat_score", min_value=1, max_value=5),
        gxe.UnexpectedRowsExpectation(
            description="net revenue over customers reconciles with fct_orders",
            unexpected_rows_query=(
                "select * from (select sum(net_revenue) as total from {batch}) as d, "
                "(select coalesce(sum(net_amount), 0) as total from marts.fct_orders "
                "where customer_key is not null) as o where abs(d.total - o.total) > 0.01"
            ),
        ),
        gxe.UnexpectedRowsExpectation(
            description="every customer_key of the identity map has a 360 row",
            unexpected_rows_query=(
                "select m.customer_key from marts.customer_identity_map as m "
                "anti join {batch} as d on d.customer_key = m.customer_key"
            ),
        ),
    ]


def fct_orders(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.UnexpectedRowsExpectation(
            description="net amount = gross amount - refund amount",
            unexpected_rows_query=(
                "select * from {batch} where abs(net_amount - (gross_amount - refund_amount)) "
                "> 0.0001"
            ),
        ),
    ]


def customer_identity_map(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    expectations: list[gxe.Expectation] = [
        gxe.ExpectColumnValuesToBeBetween(
            column="component_size", min_value=1, max_value=ctx.max_component_size
        ),
    ]
    if ctx.previous_match_rate is not None:
        floor = ctx.previous_match_rate * (1 - ctx.match_rate_max_drop)
        expectations.append(
            gxe.UnexpectedRowsExpectation(
                description=f"match rate (share of records linked to another) not below {floor:.4f}, "
                f"i.e. at most {ctx.match_rate_max_drop:.0%} under the last run's {ctx.previous_match_rate:.4f}",
                unexpected_rows_query=(
                    "select * from (select avg(case when linked_by <> 'unlinked' then 1.0 else 0.0 end) "
                    f"as match_rate from {{batch}}) as m where m.match_rate < {floor}"
                ),
            )
        )
    return expectations


def fct_feedback_monthly(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(column="csat", min_value=0, max_value=1),
    ]


# how far the selected CLV model's holdout total may miss before the warn check fails
CLV_BACKTEST_MAX_ERROR = 0.25


def fct_clv_backtest(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.UnexpectedRowsExpectation(
            description=f"the selected model's predicted holdout purchases within "
            f"{CLV_BACKTEST_MAX_ERROR:.0%} of the actual ones (fitted models only)",
            unexpected_rows_query=(
                "select * from (select model, sum(actual_purchases) as actual, "
                "sum(predicted_purchases) as predicted from {batch} "
                "where model in (select model from marts.clv_model_parameters where selected) "
                "and status = 'fitted' group by model) as totals "
                f"where actual > 0 and abs(predicted - actual) > {CLV_BACKTEST_MAX_ERROR} * actual"
            ),
        ),
    ]


def build_expectations(suite: SuiteSpec, ctx: QualityContext) -> list[gxe.Expectation]:
    """The expectations of ``suite``: its builder is the function named by the suite."""
    return globals()[suite.expectations](suite, ctx)
