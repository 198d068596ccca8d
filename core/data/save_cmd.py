"""``python -m core save FILE --name NAME`` — save a dataset version headless, exactly as *Save version* does.

Two linked MLflow runs (the raw table, reused when the same bytes were saved before, and the
cleaned table), the fitted recipe as JSON and as a Python script, the profile, the feature advice and
the held-out part — decided on the raw rows before any step learns (:func:`core.data.prepare.prepare_version`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.errors import DataError


def register_save(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser(
        "save", help="save a table as a dataset version (raw + cleaned runs, recipe, profile, held-out part)",
        description="Read FILE like the Data page does, replay RECIPE (optional) with its split decided first, "
                    "and save the raw and the cleaned table as linked versions, as the Data page's Save version.",
    )
    p.add_argument("file", help="raw table: CSV (any common delimiter / encoding), Parquet or JSON Lines")
    p.add_argument("--name", default=None, help="dataset name (default: the file name without extension)")
    p.add_argument("--recipe", default=None, help="cleaning recipe JSON (as exported from the Data page)")
    p.add_argument("--target", default="", help="target column: never a feature, never scaled / encoded / imputed")
    p.add_argument("--split", choices=("auto", "stratified", "random", "time"), default="auto",
                   help="how to hold out the test part when the recipe has no split step (default auto: stratified "
                        "for a classification target, random otherwise, time with --time-column)")
    p.add_argument("--time-column", default=None, help="time column for a time split")
    p.add_argument("--test-size", type=float, default=0.2, help="share of rows held out (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="seed of a random or stratified split (default 0)")
    p.add_argument("--note", default="", help="a note stored with the version")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the saved versions as JSON here")
    p.set_defaults(func=run_save)


def run_save(args: argparse.Namespace) -> int:
    from core.cli import settings_and_tracker
    from core.data.io import read_table
    from core.data.prepare import prepare_version
    from core.data.profile import profile_frame
    from core.data.recipe import Recipe, to_python
    from core.data.versions import save_version

    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)  # MLflow's schema hints are not for the terminal
    path = Path(args.file)
    if not path.is_file():
        raise DataError(f"The input file '{path}' does not exist. Check the path.")
    if not 0 < args.test_size < 1:
        raise DataError(f"--test-size must be between 0 and 1 (exclusive). Got {args.test_size} instead.")
    from core.data.recipe import DEFAULT_MISSING_TOKENS, Step

    # without a recipe, the usual missing-value tokens ('NA', '?', '' …) become missing values, as every
    # headless reader of the workbench does; everything else stays as loaded
    recipe = Recipe((Step("missing_tokens", {"tokens": list(DEFAULT_MISSING_TOKENS)}),))
    if args.recipe:
        recipe_path = Path(args.recipe)
        if not recipe_path.is_file():
            raise DataError(f"The recipe file '{recipe_path}' does not exist. Export one from the Data page.")
        recipe = Recipe.from_json(recipe_path.read_bytes()).unfitted()
    loaded = read_table(path, path.name)
    prepared = prepare_version(loaded.frame, recipe, target=args.target, method=args.split, test_size=args.test_size,
                               seed=args.seed, time_column=args.time_column)
    _settings, tracker, project = settings_and_tracker(args)
    code = to_python(prepared.recipe, path.name, delimiter=getattr(loaded, "delimiter", ","),
                     encoding=getattr(loaded, "encoding", "utf-8"))
    saved = save_version(tracker, project, name=args.name or path.stem, raw=loaded.frame, cleaned=prepared.frame,
                         recipe_json=prepared.recipe.to_dict(), recipe_code=code,
                         profile_json=profile_frame(prepared.frame).to_json(), split=prepared.split,
                         target=args.target, source=f"file:{path.resolve()}", description=args.note,
                         feature_advice={"features": list(prepared.advice.features),
                                         "excluded": dict(prepared.advice.excluded)})
    counts = prepared.split.value_counts().to_dict()
    print(f"saved {saved.cleaned.label} ({saved.cleaned.rows:,} rows: {counts.get('train', 0):,} train, "
          f"{counts.get('test', 0):,} test) from raw {saved.raw.label}"
          f"{' (reused)' if saved.raw_reused else ''} — run {saved.cleaned.run_id}")
    for note in prepared.notes:
        print(f"note: {note}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "project": project, "version": saved.cleaned.ref, "run_id": saved.cleaned.run_id,
            "raw_version": saved.raw.ref, "raw_run_id": saved.raw.run_id, "raw_reused": saved.raw_reused,
            "rows": saved.cleaned.rows, "train_rows": int(counts.get("train", 0)),
            "test_rows": int(counts.get("test", 0)), "target": args.target,
            "excluded_features": dict(prepared.advice.excluded), "notes": list(prepared.notes)}, indent=2))
    return 0
