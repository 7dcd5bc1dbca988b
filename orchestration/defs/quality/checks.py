"""Great Expectations suites as Dagster asset checks (raw edge and consumer marts).

Error-severity suites are blocking: a failure stops every downstream asset, publish
included. The failing expectations and their counts travel in the check metadata.
"""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.lib.retry import retry_when_transient
from orchestration.lib.settings import C360Settings
from quality.runner import SuiteOutcome, prewarm, run_suites_isolated
from quality.suites import ERROR, SuiteSpec, mart_suites, raw_suites


class GreatExpectationsValidator(dg.ConfigurableResource):
    """Runs GX suites in short-lived child processes (each releases the DuckDB file lock
    when it exits), forked from a server that imports GX when the run starts, so the import
    overlaps with ingestion and dbt instead of delaying each gate."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        prewarm()

    def validate(
        self, warehouse: Path, suites: list[SuiteSpec], run_id: str, data_docs_dir: Path | None
    ) -> list[SuiteOutcome]:
        return run_suites_isolated(warehouse, suites, run_id, data_docs_dir)


def _check_spec(suite: SuiteSpec) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=f"gx_{suite.severity}",
        asset=dg.AssetKey(suite.asset_key),
        description=f"GX suite {suite.name}: {suite.description}",
        blocking=suite.severity == ERROR,
    )


def _results(outcomes: Iterable[SuiteOutcome]) -> Iterable[dg.AssetCheckResult]:
    for outcome in outcomes:
        failures = outcome.failures
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(outcome.suite.asset_key),
            check_name=f"gx_{outcome.suite.severity}",
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR
            if outcome.suite.severity == ERROR
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "suite": outcome.suite.name,
                "expectations": len(outcome.outcomes),
                "failed_expectations": len(failures),
                "failures": dg.MetadataValue.md(
                    "\n".join(
                        f"- `{f.expectation}` on `{f.column or 'table'}`: "
                        f"unexpected {f.unexpected_count}, observed {f.observed_value} "
                        f"{f.details}"
                        for f in failures
                    )
                    or "none"
                ),
            },
        )


def _build(name: str, suites: list[SuiteSpec], with_docs: bool) -> dg.AssetChecksDefinition:
    specs = [_check_spec(s) for s in suites]

    @dg.multi_asset_check(specs=specs, name=name, pool=WAREHOUSE_POOL)
    def _check(
        context: dg.AssetCheckExecutionContext,
        c360: C360Settings,
        great_expectations: GreatExpectationsValidator,
    ):
        settings = c360.resolve()
        with retry_when_transient(context):
            outcomes = great_expectations.validate(
                settings.warehouse,
                suites,
                context.op_execution_context.run_id,
                data_docs_dir=settings.reports / "gx" if with_docs else None,
            )
        validated = {(o.suite.asset_key[-1], o.suite.severity) for o in outcomes}
        yield from _results(outcomes)
        for suite in suites:
            if (suite.table, suite.severity) not in validated:
                yield dg.AssetCheckResult(
                    asset_key=dg.AssetKey(suite.asset_key),
                    check_name=f"gx_{suite.severity}",
                    passed=False,
                    metadata={"reason": "table does not exist"},
                )

    return _check


raw_quality_gate = _build("raw_quality_gate", raw_suites(), with_docs=True)
mart_quality_gate = _build("mart_quality_gate", mart_suites(), with_docs=True)

defs = dg.Definitions(
    asset_checks=[raw_quality_gate, mart_quality_gate],
    resources={"great_expectations": GreatExpectationsValidator()},
)
