"""Observation values from outside records into the credential's fixed point: unit conversion and rounding.

A version 2 credential stores each observation in one canonical UCUM unit at a fixed number of decimals, per
LOINC code (the observation table of :mod:`zkhealth.credentials.codes`). Real exports write other units and
other precisions; :func:`to_canonical` brings a value in, by these stated rules:

1. **Same unit** (the UCUM code as written equals the canonical one): no conversion.
2. **Other UCUM unit of the same kind** (``[lb_av]`` to ``kg``, ``10*9/L`` to ``10*3/uL``, ``umol/L`` to
   ``mmol/L``): the unit expressions are parsed by ``ucumvert`` (a UCUM grammar) into pint units, and pint gives
   the factor (between temperature scales, ``[degF]`` to ``Cel``, the factor and the offset of the affine
   conversion: pint converts 0 and 1). UCUM annotations (``{1.73_m2}``, ``{score}``) carry no unit meaning, so
   they must match the canonical unit's annotations exactly (a creatinine clearance in ``mL/min`` is not a rate
   per 1.73 m2), except where the LOINC code itself names what the annotation says: the eGFR codes of
   :data:`ANNOTATION_IN_CODE` are defined per 1.73 m2 of body surface, so ``mL/min`` written for them is read as
   ``mL/min/{1.73_m2}`` (counted as converted).
3. **Mass to substance concentration** (``mg/dL`` to ``mmol/L`` and back): pint converts through the analyte's
   molar mass, stated per LOINC code in :data:`MOLAR_MASS_G_PER_MOL` (glucose, cholesterols, triglycerides as
   triolein, creatinine, bilirubin).
4. **HbA1c in IFCC units** (``mmol/mol``, also LOINC 59261-8) to NGSP ``%``: the IFCC-NGSP master equation
   ``NGSP = 0.09148 * IFCC + 2.152`` (Hoelzel et al., Clin Chem 2004;50:166-174). This is a calibration
   between two reference methods, not a unit conversion, so it is written here, not asked of pint.
5. **Rounding**: the result is rounded to the code's number of decimals, half away from zero (the usual rule
   of laboratory reporting): a systolic pressure of 128.5 mm[Hg] is stored as 129, an eGFR of 58.55 as 58.6.
6. **Comparators** (a censored value such as eGFR ``>90``): the stored value is the nearest value at the code's
   scale that the comparator allows: ``>=90`` and ``<=90`` store 90, ``>90`` at one decimal stores 90.1 and
   ``<5`` stores 4.9. A censored value decides every threshold on
   its own side of the bound (``>90`` satisfies ``egfr >= 60`` and fails ``egfr < 30`` as the true value would)
   but not thresholds beyond it; the import summary counts censored values so an issuer sees them.

Any other case raises :class:`~zkhealth.errors.UnitConversionError` naming the units.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, DecimalException, InvalidOperation
from types import MappingProxyType
from typing import Any, Final

from zkhealth.errors import UnitConversionError

__all__ = [
    "ANNOTATION_IN_CODE",
    "COMPARATORS",
    "HBA1C_IFCC_LOINC",
    "HBA1C_LOINC",
    "MOLAR_MASS_G_PER_MOL",
    "CanonicalValue",
    "to_canonical",
]

#: The HbA1c codes whose canonical unit is NGSP % (codes.py records them under 4548-4).
HBA1C_LOINC: Final[frozenset[str]] = frozenset({"4548-4", "17856-6"})
#: HbA1c by the IFCC protocol, in mmol/mol: converted to NGSP % and recorded under 4548-4.
HBA1C_IFCC_LOINC: Final[str] = "59261-8"
_MASTER_SLOPE: Final[Decimal] = Decimal("0.09148")
_MASTER_INTERCEPT: Final[Decimal] = Decimal("2.152")

#: Molar masses (g/mol) for mass <-> substance concentration, per LOINC code of the observation table.
MOLAR_MASS_G_PER_MOL: Final[Mapping[str, Decimal]] = MappingProxyType(
    {
        "2345-7": Decimal("180.156"),  # glucose
        "2339-0": Decimal("180.156"),  # glucose in whole blood
        "1558-6": Decimal("180.156"),  # fasting glucose
        "2093-3": Decimal("386.654"),  # cholesterol (total)
        "2085-9": Decimal("386.654"),  # HDL cholesterol
        "13457-7": Decimal("386.654"),  # LDL cholesterol (calculated)
        "18262-6": Decimal("386.654"),  # LDL cholesterol (direct)
        "2089-1": Decimal("386.654"),  # LDL cholesterol
        "2571-8": Decimal("885.7"),  # triglycerides, as triolein (the conventional factor 88.57 mg/dL per mmol/L)
        "2160-0": Decimal("113.12"),  # creatinine
        "1975-2": Decimal("584.66"),  # bilirubin
    }
)

#: LOINC codes whose definition carries the canonical unit's annotation (eGFR per 1.73 m2 of body surface).
ANNOTATION_IN_CODE: Final[frozenset[str]] = frozenset({"33914-3", "62238-1", "98979-8", "48642-3", "48643-1",
                                                       "50044-7", "88293-6", "88294-4"})
COMPARATORS: Final[frozenset[str]] = frozenset({"<", "<=", ">=", ">"})
_ANNOTATION = re.compile(r"\{[^{}]*\}")
_MAX_UNIT_CHARS: Final[int] = 64
#: Largest decimal exponent of a measured value (a quantity of 1e20 or 1e-20 of anything is not a lab result).
_MAX_MAGNITUDE: Final[int] = 20


@dataclass(frozen=True)
class CanonicalValue:
    """A value in the canonical unit at the code's scale; what was done to get there."""

    value: Decimal
    converted: bool
    rounded: bool
    censored: str | None


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()  # about 1 s to build: only when a unit actually differs


def _annotations(unit: str) -> tuple[str, ...]:
    return tuple(_ANNOTATION.findall(unit))


def _strip_annotations(unit: str) -> str:
    """UCUM without its annotations; an annotation standing alone is the unit 1 (UCUM §2.2.4)."""
    body = _ANNOTATION.sub("", unit)
    body = re.sub(r"/(?=/|$)", "/1", body)
    return body if body and not body.startswith("/") else "1" + body


@functools.lru_cache(maxsize=512)
def _conversion(source: str, target: str, molar_mass: Decimal | None) -> tuple[Decimal, Decimal]:
    """``(factor, offset)`` with ``value_in_target = factor * value_in_source + offset``, both from pint.

    The offset is 0 except between temperature scales (``[degF]`` and ``Cel`` are affine: pint converts the
    quantities 0 and 1 and the line through them is the conversion). Pint's errors of any kind (an offset unit
    in a product, a dimension mismatch) become :class:`UnitConversionError`.
    """
    import pint

    registry = _registry()
    try:
        source_unit = registry.from_ucum(_strip_annotations(source)) if source else registry.dimensionless
        target_unit = registry.from_ucum(_strip_annotations(target)) if target else registry.dimensionless
    except Exception as exc:  # ucumvert raises lark and pint errors of several kinds for text that is not UCUM
        raise UnitConversionError(f"{source!r} or {target!r} is not a UCUM unit ({type(exc).__name__})") from None
    try:
        zero = float(registry.Quantity(0.0, source_unit).to(target_unit).magnitude)
        one = float(registry.Quantity(1.0, source_unit).to(target_unit).magnitude)
        return Decimal(repr(one - zero)), Decimal(repr(zero))
    except pint.DimensionalityError:
        pass
    except Exception as exc:  # pint's offset-unit and type errors
        raise UnitConversionError(f"{source!r} cannot be converted to {target!r} ({type(exc).__name__})") from None
    if molar_mass is not None:
        quantity = registry.Quantity(1.0, source_unit)
        molar = registry.Quantity(float(molar_mass), registry.from_ucum("g/mol"))
        for candidate in (quantity * molar, quantity / molar):
            try:
                return Decimal(repr(float(candidate.to(target_unit).magnitude))), Decimal(0)
            except pint.DimensionalityError:
                continue
            except Exception as exc:  # pint's offset-unit and type errors
                raise UnitConversionError(f"{source!r} cannot be converted to {target!r} "
                                          f"({type(exc).__name__})") from None
    raise UnitConversionError(f"{source!r} cannot be converted to {target!r}")


def _step(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def to_canonical(
    value: object,
    unit: str,
    *,
    loinc: str,
    canonical_unit: str,
    decimals: int,
    comparator: str | None = None,
) -> CanonicalValue:
    """``value`` (a decimal in ``unit``, a UCUM code) in ``canonical_unit`` at ``decimals`` (module docstring).

    ``loinc`` is the code as recorded in the source (it selects the molar mass and the HbA1c rule).
    Raises :class:`UnitConversionError` for a value that is not a finite decimal, is far from 1 (decimal
    exponent beyond 20) or that its conversion takes past the decimal context (28 significant digits at the
    code's scale), a unit that is not UCUM or not convertible, or an unknown comparator.
    """
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise UnitConversionError(f"{str(value)[:40]!r} is not a decimal number") from exc
    if not number.is_finite():
        raise UnitConversionError("the value is not a finite number")
    if number and not -_MAX_MAGNITUDE <= number.adjusted() <= _MAX_MAGNITUDE:
        # Decimal arithmetic at the context's precision would fail (or round away the value) far from 1.
        raise UnitConversionError(f"the value {str(value)[:40]!r} is out of range for a measurement")
    if len(unit) > _MAX_UNIT_CHARS or len(canonical_unit) > _MAX_UNIT_CHARS:
        raise UnitConversionError("unit text is too long")
    if comparator is not None and comparator not in COMPARATORS:
        raise UnitConversionError(f"unknown comparator {comparator!r}")

    converted = False
    try:
        if loinc in HBA1C_LOINC | {HBA1C_IFCC_LOINC} and unit == "mmol/mol" and canonical_unit == "%":
            number = _MASTER_SLOPE * number + _MASTER_INTERCEPT
            converted = True
        elif unit != canonical_unit:
            if not _annotations(unit) and loinc in ANNOTATION_IN_CODE:
                unit = unit + "".join(_annotations(canonical_unit)) if unit.endswith("/") else (
                    unit + "/" + "".join(_annotations(canonical_unit)) if _annotations(canonical_unit) else unit)
                converted = True
            if _annotations(unit) != _annotations(canonical_unit):
                raise UnitConversionError(f"{unit!r} and {canonical_unit!r} differ in their annotations: not the same "
                                          "kind of quantity")
            factor, offset = _conversion(unit, canonical_unit, MOLAR_MASS_G_PER_MOL.get(loinc))
            number = number * factor + offset
            converted = True

        step = _step(decimals)
        if comparator is None:
            stored = number.quantize(step, rounding=ROUND_HALF_UP)
        else:
            # The nearest value at the code's scale that the comparator allows.
            units_of_step = number / step
            floor = units_of_step.to_integral_value(rounding=ROUND_FLOOR)
            ceiling = units_of_step.to_integral_value(rounding=ROUND_CEILING)
            chosen = {">": floor + 1, ">=": ceiling, "<": ceiling - 1, "<=": floor}[comparator]
            stored = (chosen * step).quantize(step)
    except DecimalException as exc:  # e.g. 1e20 Mmol/L of glucose in mg/dL: more digits than the context holds
        raise UnitConversionError(f"{str(value)[:40]!r} is out of range for {canonical_unit!r} at {decimals} "
                                  "decimals") from exc
    return CanonicalValue(value=stored, converted=converted, rounded=stored != number, censored=comparator)
