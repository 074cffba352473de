"""The course dataset: deterministic, matches its card, realistic enough to aggregate."""
from __future__ import annotations

import csv
import importlib.util
import io
from decimal import Decimal

from labkit import config

SCRIPT = config.data_dir() / "make_dataset.py"


def _module():
    spec = importlib.util.spec_from_file_location("make_dataset", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows():
    return list(csv.DictReader(io.StringIO((config.data_dir() / "customer_orders.csv").read_text())))


def test_committed_csv_is_what_the_script_writes():
    assert _module().main(["--check"]) == 0


def test_script_is_deterministic_and_the_seed_matters():
    module = _module()
    assert module.render() == module.render()
    assert module.render(seed=1) != module.render()


def test_columns_and_size_match_the_card():
    rows, card = _rows(), (config.data_dir() / "README.md").read_text()
    assert 200 <= len(rows) <= 1000
    for column in rows[0]:
        assert f"`{column}`" in card, f"column {column} is not described in data/README.md"
    assert "CC0" in card


def test_values_are_consistent():
    rows = _rows()
    assert len({r["order_id"] for r in rows}) == len(rows)
    assert rows == sorted(rows, key=lambda r: (r["order_date"], r["order_id"]))
    for r in rows:
        total = Decimal(r["unit_price"]) * int(r["quantity"])
        assert abs(Decimal(r["order_total"]) - total) <= Decimal("0.01"), r
        assert r["customer_email"].endswith("@example.com")  # never a real mailbox
        assert len(r["postcode"]) == 4 and r["postcode"].isdigit()
    # Several orders per customer, several states: something to aggregate.
    assert len({r["customer_id"] for r in rows}) < len(rows)
    assert len({r["state"] for r in rows}) >= 5
