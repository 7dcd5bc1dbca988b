"""Quoting for SQL that the ingestion code composes: the one place values and names are
escaped, so a file path, a column name or a contract value can never break a statement."""

from __future__ import annotations


def sql_str(value: str) -> str:
    """A string literal: ``it's`` -> ``'it''s'``."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted identifier: ``order id`` -> ``"order id"``."""
    return '"' + name.replace('"', '""') + '"'
