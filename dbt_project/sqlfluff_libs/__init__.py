"""What SQLFluff's jinja templater renders for dbt's `var`, `target` and cross-database
macros (``dbt.*``) when it lints the models offline (see .sqlfluff): the values and the
DuckDB SQL that dbt-duckdb would render, so the linted text parses like the real one."""

from pathlib import Path
from types import SimpleNamespace

import jinja2
import yaml

_PROJECT_VARS = yaml.safe_load((Path(__file__).parents[1] / "dbt_project.yml").read_text())[
    "vars"
] | {"as_of_date": "2024-12-31", "warehouse_path": "warehouse.duckdb"}


def var(name, default=None):
    return _PROJECT_VARS.get(name, default)


def _date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def _datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def _type_string():
    return "varchar"


@jinja2.pass_context
def _dispatch(context, macro_name, macro_namespace=None):
    """adapter.dispatch as dbt-duckdb resolves it: the project's default__ macro."""
    return context.resolve(f"default__{macro_name}")


dbt = SimpleNamespace(date_trunc=_date_trunc, datediff=_datediff, type_string=_type_string)
target = SimpleNamespace(type="duckdb", name="local")
adapter = SimpleNamespace(dispatch=_dispatch)
invocation_id = "00000000-0000-0000-0000-000000000000"
