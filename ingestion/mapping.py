"""Bring your own data: reshape exports of any shape into landing files the contracts accept.

A mapping is a YAML file (see ``ingestion/mappings/``) that names its input files and, for
each target entity, the DuckDB SQL expression that produces every contract column: a rename
is just the source column's name, a constant is a SQL literal, anything else is an
expression (``case when``, ``strptime``, ``concat_ws`` ...), optionally aggregated with
``group_by``. Inputs are read as text, exactly as exported, so the contract checks at the
landing door still judge every value: a mapping reshapes, it never filters bad rows away
unless it says so in a ``where`` that the docs can show.

The output is one gzipped CSV per target under ``<landing>/<source>/<entity>/``. Targets
without ``group_by`` keep the input's row order, so a quarantined line number in the
landed file is the same line number in the export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from ingestion.contracts import load_contracts
from ingestion.formats import file_format
from ingestion.sql import file_path, sql_str

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


class MappingError(ValueError):
    """A mapping file that cannot be applied; the message names the file and the field."""


@dataclass(frozen=True)
class MappingInput:
    alias: str
    path: str  # relative to the input folder given at run time
    format: str  # csv | jsonl | parquet
    options: dict[str, object] = field(default_factory=dict)  # extra read_csv/read_json options


@dataclass(frozen=True)
class MappingTarget:
    entity: str  # <source>/<entity>, e.g. sales/orders
    from_input: str
    columns: dict[str, str]  # contract column -> DuckDB expression over the input
    where: str | None = None
    group_by: tuple[str, ...] = ()

    @property
    def contract_name(self) -> str:
        return self.entity.replace("/", "__")


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    inputs: dict[str, MappingInput]
    targets: tuple[MappingTarget, ...]


def _infer_format(path: str) -> str:
    fmt = file_format(path)
    if fmt:
        return fmt
    raise MappingError(
        f"cannot tell the format of input {path!r}: give `format: csv|jsonl|parquet`"
    )


def parse_mapping(path: Path) -> Mapping:
    """Read and check a mapping file against the contracts (unknown entities or columns fail)."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise MappingError(f"{path}: a mapping is a YAML mapping with `inputs` and `targets`")
    contracts = {c.name: c for c in load_contracts()}
    inputs: dict[str, MappingInput] = {}
    for alias, spec in (raw.get("inputs") or {}).items():
        spec = {"path": spec} if isinstance(spec, str) else spec
        if "path" not in spec:
            raise MappingError(f"{path}: input {alias!r} needs a `path`")
        inputs[alias] = MappingInput(
            alias=alias,
            path=spec["path"],
            format=spec.get("format") or _infer_format(spec["path"]),
            options=dict(spec.get("options") or {}),
        )
    if not inputs:
        raise MappingError(f"{path}: no `inputs`")
    targets = []
    for entity, spec in (raw.get("targets") or {}).items():
        where = f"{path}: target {entity!r}"
        contract = contracts.get(entity.replace("/", "__"))
        if contract is None:
            raise MappingError(
                f"{where}: no contract for this entity (known: {', '.join(sorted(contracts))})"
            )
        source_alias = spec.get("from") or (next(iter(inputs)) if len(inputs) == 1 else None)
        if source_alias not in inputs:
            raise MappingError(f"{where}: `from` must name one of the inputs ({', '.join(inputs)})")
        columns = {str(k).lower(): str(v) for k, v in (spec.get("columns") or {}).items()}
        for name, value in (spec.get("constants") or {}).items():
            columns[str(name).lower()] = sql_str(str(value))
        known = {c.name for c in contract.columns}
        unknown = sorted(set(columns) - known)
        if unknown:
            raise MappingError(f"{where}: columns not in the contract: {', '.join(unknown)}")
        missing = sorted(c.name for c in contract.columns if c.required and c.name not in columns)
        if missing:
            raise MappingError(
                f"{where}: required contract columns not mapped: {', '.join(missing)}"
            )
        targets.append(
            MappingTarget(
                entity=entity,
                from_input=source_alias,
                columns=columns,
                where=spec.get("where"),
                group_by=tuple(spec.get("group_by") or ()),
            )
        )
    if not targets:
        raise MappingError(f"{path}: no `targets`")
    return Mapping(
        name=raw.get("name") or path.stem,
        description=raw.get("description", ""),
        inputs=inputs,
        targets=tuple(targets),
    )


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return sql_str(str(value))


def _reader_sql(spec: MappingInput, input_dir: Path) -> str:
    file = (input_dir / spec.path).resolve()
    if not file.exists():
        raise MappingError(f"input {spec.alias!r}: file not found: {file}")
    options = "".join(f", {key} = {_sql_literal(value)}" for key, value in spec.options.items())
    if spec.format == "csv":
        return f"read_csv({file_path(file)}, all_varchar = true, header = true{options})"
    if spec.format == "jsonl":
        return f"read_json({file_path(file)}, format = 'newline_delimited'{options})"
    if spec.format == "parquet":
        return f"read_parquet({file_path(file)}{options})"
    raise MappingError(f"input {spec.alias!r}: unknown format {spec.format!r}")


def target_sql(target: MappingTarget) -> str:
    """The SELECT that produces one target entity from its input view."""
    select = ",\n    ".join(f"{expr} as {name}" for name, expr in target.columns.items())
    sql = f"select\n    {select}\nfrom {target.from_input}"
    if target.where:
        sql += f"\nwhere {target.where}"
    if target.group_by:
        keys = ", ".join(target.group_by)
        sql += f"\ngroup by {keys}\norder by {keys}"
    return sql


def apply_mapping(mapping: Mapping, input_dir: Path, landing_dir: Path) -> dict[str, Path]:
    """Write one landing file per target; return entity -> written file.

    The file name is the mapping's name, so re-running a mapping on the same export
    rewrites the same bytes and the loader skips it by checksum; a new export under the
    same name is loaded as a new version of that file.
    """
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    con.execute("set enable_progress_bar = false")
    con.execute("set TimeZone = 'UTC'")
    written: dict[str, Path] = {}
    try:
        for spec in mapping.inputs.values():
            con.execute(f"create view {spec.alias} as select * from {_reader_sql(spec, input_dir)}")
        for target in mapping.targets:
            out_dir = landing_dir / target.entity
            out_dir.mkdir(parents=True, exist_ok=True)
            out = out_dir / f"{mapping.name}.csv.gz"
            tmp = out_dir / f".{out.name}.tmp"  # hidden: the loader ignores dot files
            try:
                con.execute(
                    f"copy ({target_sql(target)}) to {_sql_literal(str(tmp))} "
                    "(format csv, header true, compression gzip)"
                )
            except duckdb.Error as exc:
                raise MappingError(
                    f"mapping {mapping.name!r}, target {target.entity!r}: {exc}"
                ) from exc
            tmp.replace(out)  # a half-written file never sits where the loader looks
            written[target.entity] = out
    finally:
        con.close()
    return written


def find_mapping(name_or_path: str) -> Path:
    """A mapping by path, or by name among the shipped examples in ``ingestion/mappings/``."""
    candidate = Path(name_or_path)
    if candidate.exists():
        return candidate
    shipped = MAPPINGS_DIR / f"{name_or_path}.yml"
    if shipped.exists():
        return shipped
    raise MappingError(
        f"no mapping file {name_or_path!r} (shipped: "
        f"{', '.join(p.stem for p in sorted(MAPPINGS_DIR.glob('*.yml')))})"
    )
