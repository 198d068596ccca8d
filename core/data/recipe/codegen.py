"""Export a fitted recipe as a standalone Python script that reproduces the cleaned table.

The script reads the raw file with the loader's own rules (its conversion functions are copied
from :mod:`core.data.io`: text cells untouched, all-number / true-false columns converted; if
they ever cannot be copied, the script imports ``core.data.io.read_table`` instead). It needs
pandas, numpy and pyarrow — scikit-learn only for a KNN imputation, which refits a
``KNNImputer`` on the stored donor rows. Each step's transform function is copied verbatim from
the step modules — the exact code the workbench ran — and called with the recipe's parameters and
fitted values written out as Python literals, so the script gives the same frame as ``replay``
(in ``'transform'`` mode: training-time steps such as ``rebalance`` resample a version's training
rows when it is saved, and are written as comments).
"""

from __future__ import annotations

import inspect
import pprint
import textwrap
from core.data import io
from core.data.recipe.model import Recipe, to_native
from core.data.recipe.registry import STEPS
from core.errors import RecipeError

_READ_RAW = '''
def read_raw(path):
    """Read the raw file as the workbench does: text stays text ('NA', '-', '' are not missing yet)."""
    path = str(path)
    lower = path.lower()
    if lower.endswith((".parquet", ".pq", ".parq")):
        frame = pd.read_parquet(path)
        if not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index()
        return _clean_names(frame, path)[0]
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        frame = pd.read_json(path, lines=True, orient="records", dtype=False, convert_dates=False, encoding="utf-8-sig")
        frame.columns = [str(c) for c in frame.columns]
    else:
        frame = pd.read_csv(path, sep=DELIMITER, encoding=ENCODING, dtype=str, keep_default_na=False,
                            na_filter=False, index_col=False, low_memory=False, engine="c")
        with open(path, encoding=ENCODING, newline="") as fh:
            header = next(csv.reader(fh, delimiter=DELIMITER), [])
        if len(header) == frame.shape[1]:
            frame.columns = header  # pandas would rename a repeated name 'a' to 'a.1'
    frame = _clean_names(frame, path)[0]
    return convert_text_columns(frame)  # the loader's rule: all-number / true-false columns are converted
'''

_READ_WITH_WORKBENCH = '''
from core.data.io import read_table  # the loader's code could not be copied; run inside the workbench


def read_raw(path):
    return read_table(path).frame
'''


class _NotCopyable(Exception):
    pass


def _code_names(code) -> set[str]:  # noqa: ANN001
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _code_names(const)
    return names


def _round_trips(value: object) -> bool:
    try:
        return eval(repr(value), {}) == value  # noqa: S307 - repr of a plain constant we hold
    except Exception:  # noqa: BLE001
        return False


def _copy_functions(functions) -> tuple[list[str], list[str], dict[str, str]]:  # noqa: ANN001
    """Sources of ``functions`` and of every workbench function / constant they use (imports, constants, defs)."""
    imports: dict[str, str] = {}
    constants: dict[str, str] = {}
    sources: dict[str, str] = {}
    origin: dict[str, object] = {}
    queue = list(functions)
    while queue:
        fn = queue.pop(0)
        if fn.__name__ in origin:
            if origin[fn.__name__] is not fn:
                raise _NotCopyable(f"two functions are named {fn.__name__!r}")
            continue
        origin[fn.__name__] = fn
        sources[fn.__name__] = inspect.getsource(fn).rstrip()
        for name in sorted(_code_names(fn.__code__)):
            if name not in fn.__globals__:
                continue  # a builtin, or an attribute name
            value = fn.__globals__[name]
            if inspect.ismodule(value):
                base = value.__name__
                imports[name] = f"import {base}" if base == name else f"import {base} as {name}"
            elif inspect.isfunction(value) and value.__module__.startswith("core."):
                queue.append(value)
            elif isinstance(value, (str, int, float, bool, tuple, frozenset, dict)) and _round_trips(value):
                constants[name] = f"{name} = {value!r}"
            else:
                raise _NotCopyable(f"{fn.__name__} uses {name!r}, which cannot be written as code")
    return sorted(imports.values()), list(constants.values()), sources


_MAIN = '''
if __name__ == "__main__":
    source = sys.argv[1] if len(sys.argv) > 1 else SOURCE
    target = sys.argv[2] if len(sys.argv) > 2 else OUTPUT
    cleaned = clean(read_raw(source))
    if target.lower().endswith(".csv"):
        # text cells like '=HYPERLINK(...)' get a leading "'"; CRLF rows so a cell holding a CR is quoted
        escape_formulas(cleaned).to_csv(target, index=False, lineterminator="\\r\\n")
    else:
        cleaned.to_parquet(target)
    print(f"wrote {len(cleaned)} rows x {cleaned.shape[1]} columns to {target}")
'''


def _literal(value) -> str:
    text = pprint.pformat(to_native(value), width=100, sort_dicts=False)
    return textwrap.indent(text, " " * 8).lstrip() if "\n" in text else text


def to_python(recipe: Recipe, source_path: str = "input.csv", *, output_path: str = "cleaned.parquet",
              delimiter: str | None = ",", encoding: str | None = "utf-8") -> str:
    """Return a standalone script that reads ``source_path`` raw and applies every fitted step.

    Args:
        recipe: a fitted recipe (``replay(frame, recipe, 'fit').recipe``).
        source_path: default input of the script (it also takes ``INPUT [OUTPUT]`` arguments).
        delimiter / encoding: how the CSV is read (as detected by the loader); ``delimiter=None``
            lets pandas sniff it.

    Raises:
        RecipeError: the recipe has a step that learns from data but carries no fitted state.
    """
    if not recipe.is_fitted:
        unfitted = next(s.kind for s in recipe.steps if STEPS[s.kind].learns and s.fitted is None)
        raise RecipeError(f"The {unfitted} step has not been fitted yet; apply or replay the recipe in 'fit' mode "
                          "before exporting it as code.")
    transforms = []
    calls: list[str] = []
    needs_sklearn = False
    for i, step in enumerate(recipe.steps, start=1):
        spec = STEPS[step.kind]
        calls.append(f"    # Step {i}: {spec.title}")
        if spec.splitter is not None:
            calls.append("    # (the train / test split does not change the table; it is stored with the version)")
            continue
        if spec.training_only:
            calls.append(f"    # ({step.kind} changes the training rows only, when the version is saved; a table "
                         "cleaned with this script passes through unchanged, as on replay)")
            continue
        transforms.append(spec.transform)
        needs_sklearn |= step.kind == "impute" and step.params.get("strategy") == "knn"
        calls.append(f"    frame = {spec.transform.__name__}(\n        frame,\n        {_literal(step.params)},"
                     f"\n        {_literal(step.fitted or {})},\n    )")
    step_imports, step_constants, step_sources = _copy_functions(transforms)
    try:
        read_imports, read_constants, read_sources = _copy_functions([io._clean_names, io.convert_text_columns])
        reader = _READ_RAW + "\n\n" + "\n\n\n".join(read_sources.values())
    except (_NotCopyable, AttributeError, OSError, TypeError):  # the loader changed shape: import it instead
        read_imports, read_constants, reader = [], [], _READ_WITH_WORKBENCH
    imports = sorted({"import csv", "import sys", "import numpy as np", "import pandas as pd",
                      *step_imports, *read_imports})
    header = (
        f'"""Clean {source_path} the way the MLOps workbench recipe did ({len(recipe.steps)} steps).\n\n'
        "Generated code: run `python this_script.py [INPUT] [OUTPUT.parquet|OUTPUT.csv]`.\n"
        f"Needs pandas, numpy and pyarrow{' and scikit-learn (KNN imputation)' if needs_sklearn else ''}.\n"
        '"""\n\nfrom __future__ import annotations\n\n' + "\n".join(imports) + "\n\n"
        f"SOURCE = {source_path!r}\nOUTPUT = {output_path!r}\nDELIMITER = {delimiter!r}\nENCODING = {encoding!r}\n"
        + "".join(f"{c}\n" for c in dict.fromkeys([*read_constants, *step_constants]))
    )
    body = "\n\n\n".join(step_sources.values())
    clean = "def clean(frame):\n    \"\"\"Apply the recipe's steps with their fitted values.\"\"\"\n"
    clean += "\n".join(calls) + "\n    return frame\n"
    return f"{header}\n{reader}\n\n\n{body}\n\n\n{clean}\n\n{_csv_writer()}\n{_MAIN}"


def _csv_writer() -> str:
    """The workbench's CSV-injection escape, copied verbatim (OWASP: a leading ' on formula-like text cells)."""
    from core.data import csv_safe

    return (f"FORMULA_START = {csv_safe.FORMULA_START!r}\n\n\n"
            f"{inspect.getsource(csv_safe.escape_formulas).rstrip()}\n")
