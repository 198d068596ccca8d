"""Streamlit-only glue: session keys, cached resources, widgets that own their keys.

Importing ``ui`` from a page first makes sure the page runs inside the app's
frame (see :mod:`ui.frame`): a deep link opened first after a server start would
otherwise run the page alone, without the sidebar.
"""

from ui.frame import ensure_frame

ensure_frame()
