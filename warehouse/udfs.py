"""Normalisation of identity keys, shared by the dbt UDFs and the tests.

Emails and handles are normalised in SQL (plain string functions port to any engine);
phones need ``phonenumbers`` (Google's libphonenumber rules), exposed to DuckDB as a UDF.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import phonenumbers

# Country names a CRM may hold instead of the ISO code libphonenumber takes.
_REGION_ALIASES = {"UK": "GB"}


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=1_000_000)
def phone_to_e164(
    raw: str | None, default_region: str = "US", country: str | None = None
) -> str | None:
    """E.164 form of a phone number, or None when it is not a possible number.

    Numbers written without a country code are read in ``default_region``. When the
    record names its country (ISO 3166 code) and the number is no valid number of the
    default region, it is read in that country instead: ``020 7946 0958`` of a GB contact
    is London, not an impossible US number. A number valid in the default region keeps
    that reading, so adding the country changes no key that already worked.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    region = (country or "").strip().upper()
    region = _REGION_ALIASES.get(region, region)
    parsed = _parse(text, default_region)
    valid_in_default = parsed is not None and phonenumbers.is_valid_number(parsed)
    if (
        region != default_region
        and region in phonenumbers.SUPPORTED_REGIONS
        and not valid_in_default
    ):
        in_country = _parse(text, region)
        if in_country is not None and phonenumbers.is_valid_number(in_country):
            parsed = in_country
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_analyzer = None


def sentiment_compound(text: str | None) -> float | None:
    """VADER compound sentiment in [-1, 1]; None for empty text."""
    global _analyzer
    if text is None or not text.strip():
        return None
    if _analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyzer = SentimentIntensityAnalyzer()
    return float(_analyzer.polarity_scores(text)["compound"])


def _phone_in_default_region(raw: str | None, default_region: str) -> str | None:
    return phone_to_e164(raw, default_region)


def register_udfs(con) -> None:
    """Expose the identifier functions to SQL. dbt (through its plugin) and every connection
    the suite opens call this, so staging views that use them can be queried anywhere."""
    import duckdb
    from duckdb.sqltypes import DOUBLE, VARCHAR

    # null_handling="special": both return NULL for unusable input (DuckDB's default
    # handling raises when a UDF returns NULL).
    functions = (
        ("c360_phone_e164", _phone_in_default_region, [VARCHAR, VARCHAR], VARCHAR),
        ("c360_phone_e164_in_country", phone_to_e164, [VARCHAR, VARCHAR, VARCHAR], VARCHAR),
        ("c360_sentiment", sentiment_compound, [VARCHAR], DOUBLE),
    )
    for name, function, arguments, returns in functions:
        # already registered on this database instance by another connection: fine
        with contextlib.suppress(duckdb.CatalogException):
            con.create_function(
                name, function, arguments, returns, null_handling="special", side_effects=False
            )


def register_spark_udfs(session) -> None:
    """The same functions for the Spark engine, as Spark (Python) UDFs on ``session``."""
    from pyspark.sql.types import DoubleType, StringType

    session.udf.register("c360_phone_e164", _phone_in_default_region, StringType())
    session.udf.register("c360_phone_e164_in_country", phone_to_e164, StringType())
    session.udf.register("c360_sentiment", sentiment_compound, DoubleType())
