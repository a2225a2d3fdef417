"""Benchmarks: each module of this package measures one part of the product and prints
figures (they are not tests). Run them all with ``python -m bench``, or one with
``python -m bench NAME [options]`` (``python -m bench load --pupils 20000``).

A benchmark module defines ``main(argv: list[str] | None = None) -> int``; its docstring's
first line describes it in ``python -m bench --list``.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType


def benchmarks() -> dict[str, ModuleType]:
    """The benchmark modules of this package, by name."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "main", None)):
            found[info.name] = module
    return found


def entry_point(module: ModuleType) -> Callable[[list[str] | None], int]:
    return module.main
