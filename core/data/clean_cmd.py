"""``python -m core clean FILE --recipe RECIPE.json --out OUT.parquet`` — replay a recipe headless.

Registered by ``core/data/commands.py`` (``register_clean(sub)``). Heavy imports (pandas, the
recipe engine) happen inside :func:`run_clean`, so building the CLI parser stays light.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from core.errors import DataError


def register_clean(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser(
        "clean", help="apply a cleaning recipe (JSON) to a file and write the cleaned table",
        description="Read FILE like the Data page does, replay RECIPE on it and write OUT (.parquet or .csv).",
    )
    p.add_argument("file", help="raw table: CSV (any common delimiter/encoding), Parquet or JSON Lines")
    p.add_argument("--recipe", required=True, help="recipe JSON (as saved with a data version)")
    p.add_argument("--out", required=True, help="output table, .parquet (default) or .csv")
    p.add_argument("--mode", choices=("auto", "fit", "transform"), default="auto",
                   help="fit: learn every step again; transform: reuse the recipe's fitted values (a new batch); "
                        "auto (default): transform when the recipe is fitted, fit otherwise")
    p.add_argument("--code", help="also write a standalone Python script reproducing the cleaning")
    p.add_argument("--fitted-recipe", help="also write the recipe with its fitted values (JSON)")
    p.add_argument("--split-column", help="add the train/test split (fit mode) as a column with this name")
    p.set_defaults(func=run_clean)


def _atomic_write(path: Path, write) -> None:  # noqa: ANN001
    """Write through a temporary file in the same folder so a failure never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read(path: Path):  # noqa: ANN202
    if not path.is_file():
        raise DataError(f"The input file '{path}' does not exist. Check the path.")
    from core.data.io import read_table

    return read_table(path, path.name)


def run_clean(args: argparse.Namespace) -> int:
    recipe_path = Path(args.recipe)
    if not recipe_path.is_file():
        raise DataError(f"The recipe file '{recipe_path}' does not exist. Export one from the Data page.")
    from core.data.recipe import Recipe, replay, to_python

    recipe = Recipe.from_json(recipe_path.read_bytes())
    loaded = _read(Path(args.file))
    # auto: a recipe saved after fitting (some step carries learned state) replays; anything else fits
    fitted = recipe.is_fitted and any(s.fitted is not None for s in recipe.steps)
    mode = args.mode if args.mode != "auto" else ("transform" if fitted else "fit")
    result = replay(loaded.frame, recipe, mode)
    frame = result.frame
    if args.split_column:
        if args.split_column in frame.columns:
            raise DataError(f"The --split-column name {args.split_column!r} is already a column; choose another.")
        if result.split is None:
            why = "transform mode skips the split step" if mode == "transform" else "the recipe has no split step"
            print(f"note: no split was made ({why}), so there is no {args.split_column!r} column.", file=sys.stderr)
        else:
            frame = frame.assign(**{args.split_column: result.split})
    out = Path(args.out)
    try:
        if out.suffix.lower() == ".csv":
            from core.data.csv_safe import write_csv  # a CSV is opened in spreadsheets: formula cells defused

            _atomic_write(out, lambda tmp: write_csv(frame, tmp))
        else:
            _atomic_write(out, lambda tmp: frame.to_parquet(tmp))
    except OSError as err:
        raise DataError(f"Could not write '{out}': {err.strerror or err}. Check that its folder exists and "
                        f"is writable.") from None
    except (ValueError, TypeError) as err:
        raise DataError(f"Could not write '{out}' ({type(err).__name__}: {err}). "
                        "A column with mixed types may need a fix_types (text) step.") from None
    for i, step_result in enumerate(result.results, start=1):
        print(f"{i:>2}. {step_result.step.kind}: {step_result.summary}")
    if args.code:
        code = to_python(result.recipe, source_path=str(args.file), output_path=str(out),
                         delimiter=getattr(loaded, "delimiter", ","), encoding=getattr(loaded, "encoding", "utf-8"))
        _atomic_write(Path(args.code), lambda tmp: Path(tmp).write_text(code, encoding="utf-8"))
    if args.fitted_recipe:
        text = result.recipe.to_json()
        _atomic_write(Path(args.fitted_recipe), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    print(f"wrote {len(frame):,} rows x {frame.shape[1]} columns to {out} (mode: {mode})", file=sys.stdout)
    return 0
