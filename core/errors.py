"""One exception tree for the whole workbench.

::

    WorkbenchError                 anything a person can fix; shown as one sentence
    ├── ConfigError                bad environment / settings value
    ├── DataError                  unreadable file, bad schema, bad column choice
    │   └── RecipeError            a cleaning step that cannot apply
    ├── TrackingError              MLflow store unreachable, run / version not found
    ├── LabelError                 labelling session problems
    ├── TuneError                  bad search space, storage, study problems
    ├── CompareError               evaluation / promotion gate problems
    ├── ExportError                ONNX conversion or parity problems
    └── MonitorError               drift / quality check problems

Pages and the CLI catch ``WorkbenchError`` only and show ``str(err)``; anything
else is a bug and keeps its traceback (in the server log, never in the browser).
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class: the message is a complete sentence meant for the person."""


class ConfigError(WorkbenchError):
    """A setting (usually from the environment) is invalid."""


class DataError(WorkbenchError):
    """Input data cannot be read or does not fit what was asked."""


class RecipeError(DataError):
    """A cleaning recipe or one of its steps is invalid for this table."""


class TrackingError(WorkbenchError):
    """The MLflow store cannot be reached, or a run / version does not exist."""


class LabelError(WorkbenchError):
    """A labelling session cannot be set up or continued."""


class TuneError(WorkbenchError):
    """A study, search space or Optuna storage problem."""


class CompareError(WorkbenchError):
    """Models cannot be evaluated together, or a promotion is refused."""


class ExportError(WorkbenchError):
    """A model cannot be exported to ONNX, or the export is not equivalent."""


class MonitorError(WorkbenchError):
    """A drift or quality check cannot run on the given data."""


def one_line(err: BaseException) -> str:
    """Return the first line of an error message, never empty."""
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
