"""The "adult" example: the holder of a birth date (days since 1970-01-01) is at least 18 on `today`.

18 years are 6574 or 6575 days depending on leap days; requiring 6575 days never accepts a minor and
rejects an adult for at most one day after the 18th birthday.
"""

from zkhealth.circuit import Builder
from zkhealth.circuit.gadgets import greater_eq

ADULT_AGE_DAYS = 6575  # ceil(18 * 365.25)


def adult(b: Builder) -> None:
    today = b.public_input("today")  # days since 1970-01-01, public
    birth_date = b.private_input("birth_date")  # days since 1970-01-01, private
    with b.scope("age"):
        # greater_eq range-checks both sides to 32 bits: a birth date after today wraps around r
        # and fails that range check instead of passing as a huge age.
        old_enough = greater_eq(b, today - birth_date, ADULT_AGE_DAYS, bits=32)
        b.assert_equal(old_enough, 1)
