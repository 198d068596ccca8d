"""The Label stage: active learning (modAL) and lasso labelling on a UMAP map.

Modules, each one concern:

* :mod:`core.label.query`     learners and query strategies (the only modAL import);
* :mod:`core.label.labellog`  the append-only, fsync'd, file-locked JSONL label log;
* :mod:`core.label.session`   set-up checks, the pool, state rebuilt from the log;
* :mod:`core.label.selection` lasso / box selection → label events;
* :mod:`core.label.embed`     2-D UMAP map, cached on disk, warmed up off the request path;
* :mod:`core.label.save`      "Save label set" → an MLflow ``label`` run and a new dataset version;
* :mod:`core.label.simulate`  replay a fully labelled table: strategy vs random.

Row identity: a row is its position (0-based) in the dataset version's table.
Dataset versions are immutable, so the position is stable for the life of the version.
"""
