"""Package attributes imported on first use (PEP 562), for ``zkhealth``, :mod:`zkhealth.groth16` and
:mod:`zkhealth.formats`: importing one module of a package (or the package itself) then does not import all
of its modules. A leaf helper: it imports nothing of zkhealth."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_attributes(
    package: str, lazy: dict[str, tuple[str, str]], public: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` (which must be being imported, or imported): each name
    of ``lazy`` (public name -> (module, attribute)) is imported on first use and kept in the package;
    ``public`` is the package's ``__all__``. An unknown name raises ``AttributeError``, as for any module."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level hook's own name
        try:
            module_name, attribute = lazy[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module_name), attribute)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
