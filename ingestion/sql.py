"""Quoting for SQL that the ingestion code composes: the one place values and names are
escaped, so a file path, a column name or a contract value can never break a statement."""

from __future__ import annotations


def sql_str(value: str) -> str:
    """A string literal: ``it's`` -> ``'it''s'``."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted identifier: ``order id`` -> ``"order id"``."""
    return '"' + name.replace('"', '""') + '"'


def file_path(path: object) -> str:
    """A literal path for DuckDB's readers: ``export[1].csv`` names that one file, not the
    pattern matching ``export1.csv``. DuckDB reads ``*``, ``?`` and ``[`` as a glob and has
    no escape character, so each becomes a one-character class (``[`` -> ``[[]``)."""
    text = str(path).replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")
    return sql_str(text)
