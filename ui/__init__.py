"""Streamlit-only glue: session keys, cached resources, widgets that own their keys."""
