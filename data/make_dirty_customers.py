"""Generate ``data/dirty_customers.csv``: a small customer table with the usual defects, on purpose.

Run ``python data/make_dirty_customers.py`` (standard library only; seed fixed, so the file is
reproducible byte for byte). What is wrong with it, so the Data page has something to find:

* missing values written ten ways: ``NA``, ``n/a``, ``None``, ``null``, ``Null``, ``empty``, ``-``,
  ``----``, ``?`` and blank cells;
* numbers stored as text: ``age`` (with missing tokens), ``annual_income`` with thousands
  separators (``"52,300"``);
* stray whitespace and case variants in categories (``city``: ``Berlin`` / `` berlin`` / ``BERLIN ``;
  ``plan``: ``pro`` / ``Pro`` / ``PRO``);
* a date column as text (``signup_date``, ISO dates);
* a constant column (``country``), an almost-constant one (``newsletter``: 97 % ``yes``);
* a highly correlated pair (``monthly_spend`` and ``yearly_spend``, r ≈ 0.99);
* a column mixing numbers and words (``satisfaction``: 1–5 or ``unknown`` / ``five``);
* exact duplicate rows (12 rows repeated);
* a classification target: ``churned`` (``yes`` / ``no``).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

ROWS, DUPLICATES, SEED = 300, 12, 20240601
OUT = Path(__file__).resolve().parent / "dirty_customers.csv"
TOKENS = ["NA", "n/a", "None", "null", "Null", "empty", "-", "----", "?", ""]
CITIES = {"Berlin": [" berlin", "BERLIN ", "Berlin "], "Paris": ["paris", " Paris"], "Madrid": ["madrid"],
          "Rome": ["ROME"], "Vienna": []}  # fmt: skip
PLANS = {"basic": ["Basic", "BASIC"], "pro": ["Pro", "PRO", " pro"], "team": ["Team"]}
COLUMNS = ["customer_id", "signup_date", "age", "city", "plan", "country", "newsletter", "annual_income",
           "monthly_spend", "yearly_spend", "visits_last_month", "satisfaction", "churned"]  # fmt: skip


def _variant(rng: random.Random, canonical: str, variants: list[str], share: float = 0.25) -> str:
    return rng.choice(variants) if variants and rng.random() < share else canonical


def _maybe_missing(rng: random.Random, value: str, share: float, tokens: list[str] = TOKENS) -> str:
    return rng.choice(tokens) if rng.random() < share else value


def make_rows(seed: int = SEED) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    start = dt.date(2021, 1, 1)
    for i in range(ROWS):
        age = rng.randint(18, 79)
        plan = rng.choices(list(PLANS), weights=[5, 3, 2])[0]
        income = round(rng.lognormvariate(10.8, 0.4), -2)
        monthly = round({"basic": 9, "pro": 29, "team": 79}[plan] + rng.gauss(0, 4) + income / 20000, 2)
        yearly = round(monthly * 12 + rng.gauss(0, 30), 2)
        visits = max(0, int(rng.gauss(12, 6)))
        satisfaction = min(5, max(1, round(rng.gauss(3.5, 1.1))))
        risk = 0.55 - 0.09 * satisfaction - 0.012 * visits + (0.15 if plan == "basic" else 0.0)
        churned = "yes" if rng.random() < min(0.9, max(0.05, risk + 0.2)) else "no"
        income_text = f"{income:,.0f}" if rng.random() < 0.6 else f"{income:.0f}"
        satisfaction_text = str(satisfaction) if rng.random() > 0.06 else rng.choice(["unknown", "five", "n.a."])
        city = rng.choice(list(CITIES))
        rows.append([
            f"C{i + 1:04d}",
            _maybe_missing(rng, (start + dt.timedelta(days=rng.randint(0, 1200))).isoformat(), 0.03, ["", "?"]),
            _maybe_missing(rng, str(age), 0.12),
            _maybe_missing(rng, _variant(rng, city, CITIES[city]), 0.05, ["None", "empty", ""]),
            _variant(rng, plan, PLANS[plan], 0.2),
            "DE",
            "yes" if rng.random() < 0.97 else "no",
            _maybe_missing(rng, income_text, 0.08, ["----", "null", "Null", "-"]),
            f"{monthly:.2f}",
            f"{yearly:.2f}",
            _maybe_missing(rng, str(visits), 0.05, ["NA", "?", ""]),
            satisfaction_text,
            churned,
        ])  # fmt: skip
    for _ in range(DUPLICATES):
        rows.insert(rng.randint(1, len(rows)), list(rng.choice(rows)))
    return rows


def main() -> None:
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(make_rows())
    print(f"wrote {OUT} ({ROWS + DUPLICATES} rows)")


if __name__ == "__main__":
    main()
