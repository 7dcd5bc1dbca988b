"""Mapping files are checked against the contracts before anything is written."""

import gzip

import pytest

from ingestion.mapping import MappingError, apply_mapping, parse_mapping


def _mapping(tmp_path, body: str):
    path = tmp_path / "m.yml"
    path.write_text("name: m\ninputs:\n  rows: rows.csv\ntargets:\n" + body)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "  sales/orders:\n    columns: {order_id: a, customer_id: b, ordered_at: c, colour: d}\n",
            "columns not in the contract: colour",
        ),
        (
            "  sales/orders:\n    columns: {order_id: a}\n",
            "required contract columns not mapped: customer_id, ordered_at",
        ),
        ("  sales/invoices:\n    columns: {order_id: a}\n", "no contract for this entity"),
    ],
)
def test_a_mapping_that_breaks_the_contract_is_refused_naming_target_and_columns(
    tmp_path, body, message
):
    with pytest.raises(MappingError, match=message) as error:
        parse_mapping(_mapping(tmp_path, body))
    assert "m.yml" in str(error.value)


def test_renames_constants_and_expressions_reach_the_landing_file(tmp_path):
    (tmp_path / "rows.csv").write_text(
        "Id,Who,Placed\n7,c1,2024-01-02 10:00:00\n8,,2024-01-03 11:00:00\n"
    )
    mapping = parse_mapping(
        _mapping(
            tmp_path,
            "  sales/orders:\n"
            "    columns: {order_id: \"'o-' || Id\", customer_id: Who, ordered_at: Placed}\n"
            "    constants: {status: completed}\n",
        )
    )
    [written] = apply_mapping(mapping, tmp_path, tmp_path / "landing").values()
    assert gzip.decompress(written.read_bytes()).decode().splitlines() == [
        "order_id,customer_id,ordered_at,status",
        "o-7,c1,2024-01-02 10:00:00,completed",
        "o-8,,2024-01-03 11:00:00,completed",
    ]
