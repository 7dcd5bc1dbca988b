"""Contract to SQL: one pass over the landed text that types every column and finds each
row's first violation (not null, type, accepted values, range, row rules, duplicate key
within the file). The result is ``_checked``: typed columns ``t__<name>``, ``_extra`` (columns
the contract does not know, as JSON) and ``_violation`` (null for a good row). The landed
text of a held-back row is read back from ``_landed`` (``held_back_record``), only for
those rows: building it for every row cost a third of the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from ingestion.contracts import Column, Contract
from ingestion.sql import ident, sql_str


def _typed_expr(column: Column, value: str) -> str:
    if column.type == "varchar":
        return value
    if column.type in ("integer", "decimal"):
        # exact or nothing: DuckDB's cast rounds ('2.5' -> 3 as an integer, '1.23456' ->
        # 1.2346 as DECIMAL(18, 4)); a value that changes in the cast is a type violation
        exact = f"try_cast({value} as decimal(38, 18))"
        typed = f"try_cast({value} as {column.duckdb_type})"
        return f"(case when {exact} = {typed} then {typed} end)"
    if column.type == "timestamp":
        # Offsets are honoured (session time zone is UTC); naive values are taken as UTC.
        return f"(try_cast({value} as timestamptz) at time zone 'UTC')"
    return f"try_cast({value} as {column.duckdb_type})"


# RE2 class of the control characters a text value may not hold (tab, newline and
# carriage return are ordinary text); the backslashes reach RE2, not Python
CONTROL_CHARACTERS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"


@dataclass(frozen=True)
class EventWindow:
    """When an event (a contract's ``as_of_event_times``) can plausibly have happened:
    from ``earliest`` (default the day after the Unix epoch, so 1970-01-01 placeholders
    are caught while decades-old transaction logs load) to the load time plus
    ``future_days``. Outside it the row is quarantined (rule ``plausible_date``), so one
    placeholder date can neither invent a 1970 cohort nor move the as-of date."""

    earliest: date = date(1970, 1, 2)
    future_days: int = 2


def _violation_cases(
    contract: Contract, window: EventWindow = EventWindow()
) -> list[tuple[str, str, str, str]]:
    """(failure condition, column, rule, reason expression) in the order they are checked."""
    cases: list[tuple[str, str, str, str]] = []
    for c in contract.columns:
        v = f"v__{c.name}"
        t = f"t__{c.name}"
        if not c.nullable:
            cases.append((f"{v} is null", c.name, "not_null", sql_str(f"{c.name} is empty")))
        if c.type != "varchar":
            cases.append(
                (
                    f"{v} is not null and {t} is null",
                    c.name,
                    "type",
                    f"format('value ''{{}}'' is not a valid {c.type}', {v})",
                )
            )
        if c.type == "varchar":
            # NUL and other control characters (tab, newline and carriage return are text)
            # would pass into the marts unseen and break exports: the row is quarantined
            cases.append(
                (
                    f"regexp_matches({v}, '{CONTROL_CHARACTERS}')",
                    c.name,
                    "control_characters",
                    sql_str(f"{c.name} holds a control character (such as NUL)"),
                )
            )
        if c.accepted_values:
            allowed = ", ".join(sql_str(a) for a in c.accepted_values)
            cases.append(
                (
                    f"{t} is not null and {t} not in ({allowed})",
                    c.name,
                    "accepted_values",
                    f"format('value ''{{}}'' is not one of {', '.join(c.accepted_values)}', {v})",
                )
            )
        if c.min is not None:
            cases.append(
                (
                    f"{t} < {c.min}",
                    c.name,
                    "range",
                    f"format('value ''{{}}'' is below the minimum {c.min:g}', {v})",
                )
            )
        if c.max is not None:
            cases.append(
                (
                    f"{t} > {c.max}",
                    c.name,
                    "range",
                    f"format('value ''{{}}'' is above the maximum {c.max:g}', {v})",
                )
            )
    for name in contract.as_of_event_times:
        t = f"t__{name}"
        cases.append(
            (
                f"{t} is not null and ({t} < timestamp '{window.earliest.isoformat()}' "
                f"or {t} > now()::timestamp + interval {int(window.future_days)} day)",
                name,
                "plausible_date",
                f"format('value ''{{}}'' is outside the plausible window ({window.earliest} to "
                f"{int(window.future_days)} days after loading)', v__{name})",
            )
        )
    return cases


def _nested_value_cases(
    con: duckdb.DuckDBPyConnection, contract: Contract
) -> list[tuple[str, str, str, str]]:
    """A contract column holding a JSON object or list, or a Parquet struct or list
    (``_landed_nested``, from the reader), is a ``type`` violation: no single value."""
    nested = {
        name
        for (name,) in con.execute("select distinct column_name from _landed_nested").fetchall()
    }
    return [
        (
            f"_row_number in (select _row_number from _landed_nested "
            f"where column_name = {sql_str(c.name)})",
            c.name,
            "type",
            sql_str(f"{c.name} holds an object or a list where one value is expected"),
        )
        for c in contract.columns
        if c.name in nested
    ]


def check_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    names: Sequence[str],
    window: EventWindow = EventWindow(),
) -> None:
    """Build ``_checked``: typed contract columns, extra columns as JSON, first violation."""
    present = set(names)
    values = []
    for c in contract.columns:
        raw = f"nullif(trim({ident(c.name)}), '')" if c.name in present else "null::varchar"
        if c.accepted_values:
            raw = f"lower({raw})"
        if c.default is not None:
            raw = f"coalesce({raw}, {sql_str(c.default)})"
        values.append(f"{raw} as v__{c.name}")
    extra = [n for n in names if n not in {c.name for c in contract.columns}]
    extra_json = (
        "json_object(" + ", ".join(f"{sql_str(n)}, {ident(n)}" for n in extra) + ")"
        if extra
        else "null::json"
    )
    typed = [f"{_typed_expr(c, f'v__{c.name}')} as t__{c.name}" for c in contract.columns]
    cases = _nested_value_cases(con, contract) + _violation_cases(contract, window)
    # Row rules see the typed row under the contract's column names.
    rule_scope = ", ".join(f"t__{c.name} as {ident(c.name)}" for c in contract.columns)
    for rule in contract.row_rules:
        cases.append(
            (
                f"coalesce(({rule.fails_when}), false)",
                rule.column,
                rule.name,
                sql_str(rule.description),
            )
        )
    violation = (
        "case "
        + " ".join(
            f"when {cond} then struct_pack(column_name := {sql_str(col)}, rule := {sql_str(rule)},"
            f" reason := {reason})"
            for cond, col, rule, reason in cases
        )
        + " end"
        if cases
        else "null"
    )
    con.execute("drop table if exists _typed")
    con.execute("drop table if exists _checked")
    con.execute(
        f"""
        create temp table _typed as
        with landed as (
            select _row_number, {", ".join(values)}, {extra_json} as _extra
            from _landed
        ),
        typed as (select *, {", ".join(typed)} from landed),
        scoped as (select *, {rule_scope} from typed)
        select _row_number, _extra,
               {", ".join(f"t__{c.name}" for c in contract.columns)},
               {violation} as _violation
        from scoped
        """
    )
    key = [f"t__{k}" for k in contract.primary_key]
    if contract.cursor:
        key.append(f"t__{contract.cursor}")
    con.execute(
        f"""
        create temp table _checked as
        with ranked as (
            select *,
                   case when _violation is null then
                       first_value(_row_number) over (
                           partition by _violation is null, {", ".join(key)}
                           order by _row_number)
                   end as _first_line
            from _typed
        )
        select * exclude (_violation, _first_line),
               coalesce(_violation, case when _first_line < _row_number then struct_pack(
                   column_name := {sql_str(contract.primary_key[0])},
                   rule := 'duplicate_key',
                   reason := format('duplicate of line {{}} (same {", ".join(key).replace("t__", "")})',
                                    _first_line)) end) as _violation
        from ranked
        """
    )


def held_back_record(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for a row of ``_landed`` (aliased ``landed``) as JSON text, every landed column
    by its name: what the quarantine keeps of a row it holds back."""
    names = [
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where table_name = '_landed' "
            "and database_name = 'temp' and column_name <> '_row_number' order by column_index"
        ).fetchall()
    ]
    pairs = ", ".join(f"{sql_str(n)}, landed.{ident(n)}" for n in names)
    return f"json_object({pairs})::varchar"


def mark_conflicting_versions(
    con: duckdb.DuckDBPyConnection, contract: Contract, file_path: str
) -> int:
    """Compare the good rows of ``_checked`` with the versions of their key (and cursor)
    that raw already holds with other values, and return how many load as corrections.

    Under ``corrections: later_wins`` (the default without a cursor) every such row is a
    correction: it loads, and staging picks it as the latest version. Under
    ``corrections: conflict`` (the default with a cursor, where a correction carries a
    newer cursor) a row that clashes with another file's version is held back (rule
    ``conflicting_duplicate``, naming that file and line) rather than silently winning.
    A new version of the same file always corrects its own earlier rows; under
    ``redelivery: replace`` those leave raw with this load, so they are not compared.
    Re-delivering the same values is harmless either way."""
    key = list(contract.primary_key) + ([contract.cursor] if contract.cursor else [])
    values = [c.name for c in contract.columns if c.name not in key]
    if not values:
        return 0
    same_key = " and ".join(f"r.{ident(k)} is not distinct from c.t__{k}" for k in key)
    differs = (
        f"row({', '.join(f'r.{ident(v)}' for v in values)}) is distinct from "
        f"row({', '.join(f'c.t__{v}' for v in values)})"
    )
    replaced = "and r._source_file <> $file" if contract.redelivery == "replace" else ""
    con.execute(
        f"""
        create or replace temp table _conflicts as
        select c._row_number,
               arg_min(r._source_file || ' line ' || r._row_number, r._load_id)
                   filter (where r._source_file <> $file) as first_seen
        from _checked as c
        join raw.{contract.name} as r on {same_key}
        where c._violation is null and {differs} {replaced}
        group by c._row_number
        """,
        {"file": file_path},
    )
    held = "first_seen is not null" if contract.corrections == "conflict" else "false"
    corrected = con.execute(f"select count(*) from _conflicts where not ({held})").fetchone()[0]
    if (
        contract.corrections == "later_wins"
        or not con.execute(f"select count(*) from _conflicts where {held}").fetchone()[0]
    ):
        return corrected
    named = ", ".join(f"{k} {{}}" for k in key)
    remedy = (
        f"a correction needs a newer {contract.cursor}"
        if contract.cursor
        else "the contract holds clashing versions (corrections: conflict)"
    )
    con.execute(
        f"""
        create or replace temp table _checked as
        select c.* exclude (_violation),
               coalesce(c._violation, case when x.first_seen is not null then struct_pack(
                   column_name := {sql_str(contract.primary_key[0])},
                   rule := 'conflicting_duplicate',
                   reason := format('{named} was already loaded from {{}} with other values; '
                                    || {sql_str(remedy)},
                                    {", ".join(f"c.t__{k}" for k in key)}, x.first_seen))
               end) as _violation
        from _checked as c
        left join _conflicts as x using (_row_number)
        order by c._row_number
        """
    )
    return corrected
