"""Generate data/customer_orders.csv: synthetic online-shop orders for the landing zone.

Deterministic (fixed seed, standard library only): running it again writes the
same bytes, so the committed CSV can always be checked against this script:

    python data/make_dataset.py            # rewrite data/customer_orders.csv
    python data/make_dataset.py --check    # exit 1 if the committed file differs

Every person is invented. E-mail addresses use example.com, a domain reserved
for documentation (RFC 2606), so no real mailbox can ever be reached.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 20240611
ROWS = 400
CUSTOMERS = 120
OUTPUT = Path(__file__).resolve().parent / "customer_orders.csv"
COLUMNS = ("order_id", "order_date", "customer_id", "customer_email", "postcode", "state",
           "product_category", "quantity", "unit_price", "order_total", "payment_method")

# (category, lowest and highest unit price): orders are priced inside these ranges.
CATEGORIES = (("books", 8, 45), ("electronics", 25, 900), ("garden", 5, 150),
              ("groceries", 2, 40), ("clothing", 12, 180), ("toys", 6, 90))
# (state, weight, first digit of its postcodes): more orders come from bigger states.
STATES = (("NSW", 32, "2"), ("VIC", 26, "3"), ("QLD", 20, "4"), ("WA", 10, "6"),
          ("SA", 7, "5"), ("TAS", 3, "7"), ("ACT", 2, "2"))
PAYMENTS = (("card", 70), ("paypal", 20), ("bank_transfer", 10))
FIRST = ("alex", "sam", "jo", "kim", "lee", "max", "ria", "tom", "ana", "ben", "eva", "ian")
LAST = ("nguyen", "smith", "patel", "brown", "wilson", "taylor", "lee", "martin", "chen", "kaur")
START = date(2024, 1, 1)
DAYS = 182  # the first half of 2024


def _customers(rng: random.Random) -> list[tuple[str, str, str, str]]:
    """(customer_id, email, postcode, state) for every invented customer."""
    people = []
    for number in range(1, CUSTOMERS + 1):
        state, _, digit = rng.choices(STATES, weights=[s[1] for s in STATES])[0]
        postcode = digit + f"{rng.randrange(0, 1000):03d}"
        email = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{number}@example.com"
        people.append((f"C{number:04d}", email, postcode, state))
    return people


def rows(seed: int = SEED) -> list[dict[str, str]]:
    """The dataset as a list of CSV rows (strings), ordered by date then order id."""
    rng = random.Random(seed)
    people = _customers(rng)
    orders = []
    for number in range(1, ROWS + 1):
        customer_id, email, postcode, state = rng.choice(people)
        category, low, high = rng.choice(CATEGORIES)
        quantity = rng.choices((1, 2, 3, 4, 5), weights=(55, 25, 10, 6, 4))[0]
        unit_price = round(rng.uniform(low, high), 2)
        orders.append({
            "order_id": f"O{number:05d}",
            "order_date": (START + timedelta(days=rng.randrange(DAYS))).isoformat(),
            "customer_id": customer_id, "customer_email": email,
            "postcode": postcode, "state": state, "product_category": category,
            "quantity": str(quantity), "unit_price": f"{unit_price:.2f}",
            "order_total": f"{quantity * unit_price:.2f}",
            "payment_method": rng.choices([p[0] for p in PAYMENTS],
                                          weights=[p[1] for p in PAYMENTS])[0],
        })
    return sorted(orders, key=lambda o: (o["order_date"], o["order_id"]))


def render(seed: int = SEED) -> str:
    """The CSV text (header plus ROWS lines, "\\n" line endings)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(seed))
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the committed CSV differs from the script's")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text() == text
        print(f"{OUTPUT.name}: {'up to date' if same else 'DIFFERS: run python data/make_dataset.py'}")
        return 0 if same else 1
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT} ({ROWS} orders, {CUSTOMERS} customers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
