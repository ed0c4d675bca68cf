"""Leaf definitions shared by every layer of wakebench.

``firmware_sim`` (the pure emulated OS) and ``boards``/``hal`` (hardware) may not import each
other (the dependency rule of the layout). What both sides must agree on byte for byte — the
signal vocabulary and its validation, bounded reading of the files users hand the bench — lives
here, in a package that imports nothing of the project and only the standard library (plus
PyYAML for bounded YAML reading, and pydantic for the one way files are validated:
:mod:`wbcommon.validation`). Every layer may import ``wbcommon``; ``wbcommon`` imports
no layer (``tests/test_layers.py`` checks both).
"""
