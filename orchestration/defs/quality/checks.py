"""Great Expectations suites as Dagster asset checks (raw edge and consumer marts).

Error-severity suites are blocking: a failure stops every downstream asset, publish
included. The failing expectations and their counts travel in the check metadata.

The raw gate checks the raw rows no passing gate has checked yet (raw is append-only, so
the rows of a load that passed stay valid; rows written around the loader are checked
every time) and is skipped when there are none: a run with nothing new does no gate work.
A full refresh validates every raw row again.
"""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.lib.retry import retry_when_transient
from orchestration.lib.settings import C360Settings
from quality.runner import SuiteOutcome, run_suites_isolated, unchecked_rows
from quality.suites import ERROR, SuiteSpec, mart_suites, raw_suites


class GreatExpectationsValidator(dg.ConfigurableResource):
    """Runs GX suites in short-lived child processes (each releases the DuckDB file lock
    when it exits), forked from a server that imports GX once per process; ingestion and
    dbt start that server (``quality.runner.prewarm``) when they have work, so the import
    overlaps with them, and a run with nothing new never imports GX."""

    def validate(
        self,
        warehouse: Path,
        suites: list[SuiteSpec],
        run_id: str,
        data_docs_dir: Path | None,
        new_rows_only: bool = False,
    ) -> list[SuiteOutcome]:
        return run_suites_isolated(warehouse, suites, run_id, data_docs_dir, new_rows_only)


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


def _build(
    name: str, suites: list[SuiteSpec], with_docs: bool, per_load: bool = False
) -> dg.AssetChecksDefinition:
    """``per_load``: the raw gate, which validates only rows no earlier gate passed."""
    specs = [_check_spec(s) for s in suites]

    # a check that had nothing new to validate reports no result (can_subset)
    @dg.multi_asset_check(specs=specs, name=name, pool=WAREHOUSE_POOL, can_subset=per_load)
    def _check(
        context: dg.AssetCheckExecutionContext,
        c360: C360Settings,
        great_expectations: GreatExpectationsValidator,
    ):
        settings = c360.resolve()
        new_rows_only = per_load and not settings.full_refresh
        selected = suites
        if new_rows_only:
            with retry_when_transient(context):
                unchecked = unchecked_rows(settings.warehouse)
            if not unchecked:
                # freshness and volume are warnings; they are looked at again with the
                # next delivery (README, "What is not built")
                context.log.info(
                    "Every loaded row passed an earlier raw gate and nothing new was "
                    "loaded: the raw gate is skipped."
                )
                return
            # row rules on each table's unchecked rows; volume and freshness on every table
            selected = [s for s in suites if not s.checks_rows or s.table in unchecked]
            context.log.info(
                "Raw gate on the rows no earlier gate passed: "
                + ", ".join(
                    f"{table} ({len(rows.load_ids)} load(s)"
                    + (", rows without a load id)" if rows.without_load_id else ")")
                    for table, rows in sorted(unchecked.items())
                )
            )
        with retry_when_transient(context):
            outcomes = great_expectations.validate(
                settings.warehouse,
                selected,
                context.op_execution_context.run_id,
                data_docs_dir=settings.reports / "gx" if with_docs else None,
                new_rows_only=new_rows_only,
            )
        validated = {(o.suite.asset_key[-1], o.suite.severity) for o in outcomes}
        yield from _results(outcomes)
        for suite in selected:
            if (suite.table, suite.severity) not in validated:
                yield dg.AssetCheckResult(
                    asset_key=dg.AssetKey(suite.asset_key),
                    check_name=f"gx_{suite.severity}",
                    passed=False,
                    metadata={"reason": "table does not exist"},
                )

    return _check


raw_quality_gate = _build("raw_quality_gate", raw_suites(), with_docs=True, per_load=True)
mart_quality_gate = _build("mart_quality_gate", mart_suites(), with_docs=True)

defs = dg.Definitions(
    asset_checks=[raw_quality_gate, mart_quality_gate],
    resources={"great_expectations": GreatExpectationsValidator()},
)
