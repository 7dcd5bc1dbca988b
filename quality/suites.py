"""Great Expectations suites, defined in code and named ``<layer>.<table>.<severity>``.

GX guards the edges: what landed (``raw``) and what consumers read (``marts``). Raw suites
are derived from the ingestion contracts, so a new entity gets its suite for free. Every
expectation runs in DuckDB (see ``quality.gx_duckdb``); regex and cross-table rules are
``UnexpectedRowsExpectation`` queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations as gx
import great_expectations.expectations as gxe

from ingestion.contracts import Contract, load_contracts

ERROR = "error"  # blocks publishing
WARN = "warn"  # reported, does not block

LIFECYCLE_STAGES = [
    "reach_awareness",
    "acquisition",
    "conversion",
    "retention",
    "loyalty_advocacy",
    "lapsed",
]
RELATIONSHIP_TYPES = [
    "dedicated_personal_assistance",
    "personal_assistance",
    "automated_services",
    "self_service",
    "long_term",
    "transactional",
]


@dataclass(frozen=True)
class QualityContext:
    """What expectations may depend on besides the table itself."""

    previous_row_counts: dict[str, int]
    max_component_size: int = 50
    future_tolerance_days: int = 1
    previous_match_rate: float | None = None
    match_rate_max_drop: float = 0.2  # warn when the match rate falls by more than a fifth


@dataclass(frozen=True)
class SuiteSpec:
    layer: str
    table: str
    severity: str
    build: Callable[[QualityContext], list[gxe.Expectation]]
    description: str = ""

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}.{self.severity}"

    @property
    def asset_key(self) -> list[str]:
        return [self.layer, self.table]


def _raw_error_suite(contract: Contract) -> SuiteSpec:
    def build(ctx: QualityContext) -> list[gxe.Expectation]:
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

    return SuiteSpec(
        "raw", contract.name, ERROR, build, f"Contract-level checks of {contract.name}"
    )


def _raw_warn_suite(contract: Contract) -> SuiteSpec:
    def build(ctx: QualityContext) -> list[gxe.Expectation]:
        expectations: list[gxe.Expectation] = []
        previous = ctx.previous_row_counts.get(f"raw.{contract.name}")
        # Raw is append-only: fewer rows than last run means something deleted history.
        expectations.append(
            gxe.ExpectTableRowCountToBeBetween(min_value=previous or 0, max_value=None)
        )
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

    return SuiteSpec("raw", contract.name, WARN, build, f"Volume and timeliness of {contract.name}")


def _dim_customer_360(ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_key"),
        gxe.ExpectColumnValuesToBeUnique(column="customer_key"),
        gxe.ExpectColumnValuesToNotBeNull(column="lifecycle_stage"),
        gxe.ExpectColumnValuesToBeInSet(column="lifecycle_stage", value_set=LIFECYCLE_STAGES),
        gxe.ExpectColumnValuesToBeInSet(column="relationship_type", value_set=RELATIONSHIP_TYPES),
        gxe.ExpectColumnValuesToBeBetween(column="latest_nps_score", min_value=0, max_value=10),
        gxe.ExpectColumnValuesToBeBetween(column="avg_csat_score", min_value=1, max_value=5),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
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


def _fct_orders(ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
        gxe.ExpectColumnValuesToBeUnique(column="order_id"),
        gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=["completed", "cancelled", "refunded"]
        ),
        gxe.UnexpectedRowsExpectation(
            description="net amount = gross amount - refund amount",
            unexpected_rows_query=(
                "select * from {batch} where abs(net_amount - (gross_amount - refund_amount)) "
                "> 0.0001"
            ),
        ),
    ]


def _identity_map_error(ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_key"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["record_source", "record_id"]),
    ]


def _identity_map_warn(ctx: QualityContext) -> list[gxe.Expectation]:
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


def _feedback_monthly(ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(column="nps", min_value=-100, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="csat", min_value=0, max_value=1),
    ]


def _lifecycle_history(ctx: QualityContext) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeInSet(column="lifecycle_stage", value_set=LIFECYCLE_STAGES),
        gxe.UnexpectedRowsExpectation(
            description="exactly one current stage per customer",
            unexpected_rows_query=(
                "select customer_key from {batch} group by customer_key "
                "having count(*) filter (where is_current) <> 1"
            ),
        ),
    ]


def raw_suites() -> list[SuiteSpec]:
    suites: list[SuiteSpec] = []
    for contract in load_contracts():
        suites.append(_raw_error_suite(contract))
        suites.append(_raw_warn_suite(contract))
    return suites


def mart_suites() -> list[SuiteSpec]:
    return [
        SuiteSpec(
            "marts", "dim_customer_360", ERROR, _dim_customer_360, "Consumer contract of the 360"
        ),
        SuiteSpec("marts", "fct_orders", ERROR, _fct_orders, "Order facts reconcile"),
        SuiteSpec(
            "marts", "customer_identity_map", ERROR, _identity_map_error, "Identity map keys"
        ),
        SuiteSpec(
            "marts",
            "customer_identity_map",
            WARN,
            _identity_map_warn,
            "Over-merging and match-rate guard",
        ),
        SuiteSpec(
            "marts", "fct_feedback_monthly", ERROR, _feedback_monthly, "NPS and CSAT in range"
        ),
        SuiteSpec(
            "marts",
            "fct_customer_lifecycle_history",
            ERROR,
            _lifecycle_history,
            "One current stage each",
        ),
    ]


def all_suites() -> list[SuiteSpec]:
    return raw_suites() + mart_suites()


__all__ = [
    "ERROR",
    "WARN",
    "QualityContext",
    "SuiteSpec",
    "all_suites",
    "gx",
    "mart_suites",
    "raw_suites",
]
