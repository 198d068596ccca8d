"""Deploy: export a registered scikit-learn pipeline to ONNX, prove parity, measure, package.

Modules (heavy libraries are imported inside functions, so importing this package is cheap):

* :mod:`core.deploy.export`    ``export_onnx`` → :class:`ExportResult` (skl2onnx, typed raw-column inputs)
* :mod:`core.deploy.graph`     tiny ONNX graph builder (float64 column tensors) shared by export and recipe
* :mod:`core.deploy.recipe`    which cleaning-recipe steps go into the ONNX graph and which must run before it
* :mod:`core.deploy.parity`    ``check_parity`` → :class:`ParityReport` (scikit-learn vs onnxruntime)
* :mod:`core.deploy.quantize`  ``quantize_export`` → :class:`QuantizeReport` (dynamic int8)
* :mod:`core.deploy.latency`   ``measure_latency`` → :class:`LatencyReport`
* :mod:`core.deploy.bundle`    ``build_bundle`` → a zip a service can run without pickle (``serve_bundle.py`` is its server)
* :mod:`core.deploy.service`   the stage end to end on a tracking store (used by the page and the CLI)
"""
