"""The workbench's plain-Python core: every stage of the loop, no Streamlit.

Importing ``core`` is cheap on purpose: heavy libraries (MLflow, Evidently,
UMAP, skl2onnx, onnxruntime, modAL) are imported inside the one module that
needs them, so a Streamlit rerun or a headless command pays only for what it uses.
"""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
