"""Great Expectations suites, declared as data and named ``<layer>.<table>.<severity>``.

GX guards the edges: what landed (``raw``) and what consumers read (``marts``). Raw suites
are derived from the ingestion contracts, so a new entity gets its suites for free; a mart
suite is one entry in ``MART_SUITES``. What each suite expects is built by the function of
the same name in ``quality.expectations``, which alone imports GX, when a validation runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.contracts import Contract, load_contracts

ERROR = "error"  # blocks publishing
WARN = "warn"  # reported, does not block


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
    expectations: str  # the builder in quality.expectations
    description: str = ""
    contract: Contract | None = None  # raw suites: the contract they check

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}.{self.severity}"

    @property
    def asset_key(self) -> list[str]:
        return [self.layer, self.table]

    @property
    def checks_rows(self) -> bool:
        """A raw suite of row rules: a row that passed it once stays valid (raw is
        append-only), so the raw gate runs it on the rows no passing gate has checked."""
        return self.expectations == "raw_contract_rules"


MART_SUITES = (
    SuiteSpec(
        "marts",
        "dim_customer_360",
        ERROR,
        "dim_customer_360",
        "Scores in range, revenue reconciles with fct_orders, every identity-map key present",
    ),
    SuiteSpec(
        "marts", "fct_orders", ERROR, "fct_orders", "Net amount = gross - refund on every order"
    ),
    SuiteSpec(
        "marts",
        "customer_identity_map",
        WARN,
        "customer_identity_map",
        "Over-merging and match-rate guard",
    ),
    SuiteSpec("marts", "fct_feedback_monthly", ERROR, "fct_feedback_monthly", "CSAT in range"),
    SuiteSpec(
        "marts",
        "fct_clv_backtest",
        WARN,
        "fct_clv_backtest",
        "The CLV model's holdout prediction within 25% of what customers bought",
    ),
)


def raw_suites() -> list[SuiteSpec]:
    suites: list[SuiteSpec] = []
    for contract in load_contracts():
        suites.append(
            SuiteSpec(
                "raw",
                contract.name,
                ERROR,
                "raw_contract_rules",
                f"Contract-level checks of {contract.name}",
                contract,
            )
        )
        suites.append(
            SuiteSpec(
                "raw",
                contract.name,
                WARN,
                "raw_volume_and_timeliness",
                f"Volume and timeliness of {contract.name}",
                contract,
            )
        )
    return suites


def mart_suites() -> list[SuiteSpec]:
    return list(MART_SUITES)


def all_suites() -> list[SuiteSpec]:
    return raw_suites() + mart_suites()
