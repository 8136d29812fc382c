"""The "cubic" example: prove knowledge of x with x**3 + x + 5 == out, revealing only out."""

from zkhealth.circuit import Builder


def cubic(b: Builder) -> None:
    x = b.private_input("x")
    b.output("out", x * x * x + x + 5)  # two multiplications: two constraints
