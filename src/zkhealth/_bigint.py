"""Big-integer backend: gmpy2 when installed, plain ints otherwise.

Hot loops call :func:`mpz` on their inputs once and then use ordinary operators; with gmpy2 missing,
:func:`mpz` is ``int`` and the code stays correct. Set ``ZKHEALTH_NO_GMPY2=1`` to force plain ints
(CI runs the suite both ways).
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

HAVE_GMPY2: bool
mpz: Callable[[Any], Any]
invert: Callable[[Any, Any], Any]
powmod: Callable[[Any, Any, Any], Any]


def _installed_version(name: str) -> str | None:
    """The ``Version`` of distribution ``name`` from the first ``name-*.dist-info`` directory on ``sys.path``
    (what :func:`importlib.metadata.version` reads for a wheel-installed package), or None if there is none or
    it cannot be read."""
    prefix = name + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found = next((item for item in names if item.startswith(prefix) and item.endswith(".dist-info")), None)
        if found is None:
            continue
        try:
            with open(os.path.join(entry or ".", found, "METADATA"), encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        break  # the end of the headers
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip() or None
        except (OSError, UnicodeDecodeError):
            pass
        return None
    return None


class _MetadataStandIn(types.ModuleType):
    """Stands in for ``importlib.metadata`` while gmpy2 is imported (:func:`_import_gmpy2`): answers
    ``version(name)`` from the distribution's ``METADATA`` when it can, and hands that call, when it cannot, and
    every other attribute to the real module, which it then imports in its own place."""

    def __init__(self) -> None:
        super().__init__("importlib.metadata")

    def version(self, name: str) -> str:
        found = _installed_version(name)
        return found if found is not None else str(self._real().version(name))

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(self._real(), attribute)

    def _real(self) -> Any:
        if sys.modules.get("importlib.metadata") is self:
            del sys.modules["importlib.metadata"]
        import importlib.metadata

        return importlib.metadata


def _import_gmpy2() -> Any:
    """``import gmpy2``. gmpy2 2.2 and later look their own version up with ``importlib.metadata.version`` while
    they are imported, and importing ``importlib.metadata`` (with ``email``, ``csv`` and more) was 15-18 ms of
    every zkhealth process's start (``import gmpy2``: 17-20 ms, 3-4 ms with the lookup answered without that
    module). When nothing has imported it yet, :class:`_MetadataStandIn` answers that lookup; it is removed
    right after, so a later ``import importlib.metadata`` gets the real module. gmpy2's ``__version__`` is the
    same either way."""
    if "importlib.metadata" in sys.modules:
        import gmpy2

        return gmpy2
    stand_in = _MetadataStandIn()
    sys.modules["importlib.metadata"] = stand_in
    try:
        import gmpy2
    finally:
        if sys.modules.get("importlib.metadata") is stand_in:
            del sys.modules["importlib.metadata"]
    return gmpy2


if os.environ.get("ZKHEALTH_NO_GMPY2"):
    HAVE_GMPY2 = False
else:
    try:
        _gmpy2 = _import_gmpy2()
        HAVE_GMPY2 = True
    except ImportError:  # pragma: no cover - depends on the environment
        HAVE_GMPY2 = False

if HAVE_GMPY2:
    mpz = _gmpy2.mpz
    invert = _gmpy2.invert
    powmod = _gmpy2.powmod
else:
    mpz = int

    def invert(a: Any, m: Any) -> Any:
        return pow(int(a), -1, int(m))

    def powmod(a: Any, e: Any, m: Any) -> Any:
        return pow(int(a), int(e), int(m))


def backend_name() -> str:
    """Return ``"gmpy2"`` or ``"int"``, the big-integer backend in use."""
    return "gmpy2" if HAVE_GMPY2 else "int"
