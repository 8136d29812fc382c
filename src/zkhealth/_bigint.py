"""Big-integer backend: gmpy2 when installed, plain ints otherwise.

Hot loops call :func:`mpz` on their inputs once and then use ordinary operators; with gmpy2 missing,
:func:`mpz` is ``int`` and the code stays correct. Set ``ZKHEALTH_NO_GMPY2=1`` to force plain ints
(CI runs the suite both ways).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

HAVE_GMPY2: bool
mpz: Callable[[Any], Any]
invert: Callable[[Any, Any], Any]
powmod: Callable[[Any, Any, Any], Any]

if os.environ.get("ZKHEALTH_NO_GMPY2"):
    HAVE_GMPY2 = False
else:
    try:
        import gmpy2 as _gmpy2

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
