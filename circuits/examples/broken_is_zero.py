"""A deliberately broken gadget: is_zero without its second constraint (security.md C6).

``out = 1 - x * inv`` alone lets a prover pick ``inv = 0`` and claim ``out = 1`` ("x is zero") for any x:
``x * out = 0`` is what rules that out. The assurance tools catch it (docs/circuits.md).
"""

from zkhealth.circuit import Builder
from zkhealth.field import FIELD_R


def inverse_or_zero(x: int) -> int:
    return pow(x, -1, FIELD_R) if x else 0


def broken_is_zero(b: Builder) -> None:
    x = b.private_input("x")
    (inv,) = b.hint_unconstrained(inverse_or_zero, x, name="inverse")
    b.output("out", 1 - x * inv)  # missing: b.assert_mul(x, out, 0)
