"""SPICE netlists of silicon neurons and their model cards, shipped as ``neurochip.circuits``.

This folder holds data, not code: find its files with
``importlib.resources.files("neurochip.circuits")``.
"""
