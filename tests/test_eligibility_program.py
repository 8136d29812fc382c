"""Criteria programs (zkhealth.eligibility.program) and the native evaluator (evaluate.py): compilation,
negation normal form, the absent-data rule, partial records, and agreement with an independent oracle that
reads the record's entries directly (not its sorted sets) on random records and random criteria."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from records import AS_OF, TODAY, TODAY_DATE, obs, t2d_record

from zkhealth.credentials import codes
from zkhealth.credentials.dates import packed_date
from zkhealth.credentials.record import (
    ADMISSION_REASON_UNKNOWN,
    Allergy,
    Condition,
    DiagnosisDetail,
    Encounter,
    Immunization,
    Medication,
    Observation,
    PatientRecord,
    Procedure,
)
from zkhealth.eligibility.evaluate import atom_truths, evaluate_program, leaf_truths
from zkhealth.eligibility.program import (
    ANY,
    LAST,
    NONE_OR_LAST,
    HeaderAtom,
    Policy,
    SetAtom,
    compile_program,
    leaf_owners,
)
from zkhealth.errors import CriteriaNotExpressibleError, CriteriaSyntaxError, EligibilityError, NotEligibleError

pytestmark = pytest.mark.native
D = dt.date

BENCHMARK = (
    "diagnosis in E11.* and age between 18 and 75 and medication in atc:A10BA02 for at least 3 months "
    "and latest(hba1c) between 7.0 and 10.5 within 90 days and not diagnosis in E10.* "
    "and not medication in atc:A10A within 6 months and egfr >= 30 and not pregnancy_status = pregnant"
)


def verdict(criteria: str, record: PatientRecord, today: int | dt.date = TODAY) -> tuple[bool, str | None]:
    result = evaluate_program(compile_program(criteria), record, today)
    return result.eligible, result.failing_clause


def test_benchmark_trial_compiles_to_eight_atoms_and_accepts_the_reference_patient() -> None:
    program = compile_program(BENCHMARK)
    modes = [a.mode for a in program.atoms if isinstance(a, SetAtom)]
    assert len(program.atoms) == 8 and modes.count(ANY) == 2 and modes.count(LAST) == 2
    assert modes.count(NONE_OR_LAST) == 3 and sum(isinstance(a, HeaderAtom) for a in program.atoms) == 1
    assert verdict(BENCHMARK, t2d_record()) == (True, None)


@pytest.mark.parametrize(
    ("change", "clause"),
    [
        ({"conditions": (Condition("I10", D(2019, 3, 3)),)}, "diagnosis in E11.*"),
        ({"birth_date": D(1940, 1, 1)}, "age between 18 and 75"),
        ({"medications": (Medication("A10BA02", D(2026, 1, 2)),)}, "medication in atc:A10BA02 for at least 3 months"),
        ({"observations": (obs("hba1c", "8.2", D(2025, 10, 1)), obs("egfr", "72.5", D(2026, 1, 20)))},
         "latest(hba1c) between 7.0 and 10.5 within 90 days"),
        ({"conditions": (Condition("E11.9", D(2022, 6, 1)), Condition("E10.9", D(2010, 1, 1)))},
         "not diagnosis in E10.*"),
        ({"medications": (Medication("A10BA02", D(2022, 7, 1)),
                          Medication("A10AE04", D(2024, 1, 1), end=D(2025, 12, 1), status="stopped"))},
         "not medication in atc:A10A within 6 months"),
        ({"observations": (obs("hba1c", "8.2", D(2026, 1, 20)), obs("egfr", "25.0", D(2026, 1, 20)))},
         "egfr >= 30"),
        ({"observations": (obs("hba1c", "8.2", D(2026, 1, 20)), obs("egfr", "72.5", D(2026, 1, 20)),
                           obs("pregnancy_status", "pregnant", D(2026, 1, 25)))},
         "not pregnancy_status = pregnant"),
    ],
)
def test_each_failing_criterion_is_named(change: dict[str, object], clause: str) -> None:
    assert verdict(BENCHMARK, t2d_record(**change)) == (False, clause)
    with pytest.raises(NotEligibleError) as caught:
        evaluate_program(compile_program(BENCHMARK), t2d_record(**change), TODAY).raise_if_not_eligible()
    assert caught.value.clause == clause


def test_absent_data_rule() -> None:
    no_labs = t2d_record(observations=())
    # An absent value never satisfies a comparison, in either direction ...
    assert not verdict("egfr >= 30", no_labs)[0]
    assert not verdict("egfr < 30", no_labs)[0]
    assert not verdict("any(hba1c) >= 5", no_labs)[0]
    # ... and an exclusion over an absent item is satisfied.
    assert verdict("not egfr < 30", no_labs)[0]
    assert verdict("not (latest(hba1c) between 7 and 10.5 within 90 days)", no_labs)[0]
    assert verdict("not pregnancy_status = pregnant", no_labs)[0]
    assert verdict("not diagnosis in C00-C96 within 5 years", no_labs)[0]


def test_partial_records_satisfy_inclusions_only() -> None:
    partial = t2d_record(complete=False)
    assert verdict("diagnosis in E11.*", partial)[0]
    assert verdict("any(hba1c) >= 8", partial)[0]
    assert not verdict("not diagnosis in E10.*", partial)[0]
    assert not verdict("hba1c >= 7", partial)[0]  # the latest value needs a complete record
    result = evaluate_program(compile_program("hba1c >= 7"), partial, TODAY)
    assert result.reason is not None and "partial" in result.reason
    # A complete record that is too old counts as partial for exclusions.
    assert not evaluate_program(compile_program("not diagnosis in E10.*", Policy(max_record_age_days=10)),
                                t2d_record(), TODAY).eligible
    assert evaluate_program(compile_program("not diagnosis in E10.*", Policy(max_record_age_days=31)),
                            t2d_record(), TODAY).eligible


def test_latest_value_and_windows() -> None:
    record = t2d_record()  # HbA1c 10.9 on 2025-06-20, then 8.2 on 2026-01-20
    assert verdict("hba1c < 9", record)[0]
    assert not verdict("hba1c >= 9", record)[0]  # the older 10.9 is not the latest
    assert verdict("any(hba1c) >= 10.9", record)[0]
    assert not verdict("any(hba1c) >= 10.9 within 6 months", record)[0]
    assert verdict("latest(hba1c) within 90 days", record)[0]
    assert not verdict("latest(hba1c) within 30 days", record)[0]
    assert verdict("diagnosis in E11 at least 3 years ago", record)[0]  # a recent code does not refuse it
    assert not verdict("diagnosis in E11 at least 4 years ago", record)[0]
    assert verdict("diagnosis in E11 before 2023-01-01", record)[0]
    assert not verdict("diagnosis in E11 after 2023-01-01", record)[0]
    assert verdict("diagnosis in snomed:44054006", record)[0]


def test_calendar_months_and_leap_days() -> None:
    # Onset 2025-12-31; on 2026-06-30 it is within 6 calendar months; on 2026-07-01 it is not.
    record = PatientRecord(birth_date=D(1960, 1, 1), complete=True, as_of=D(2026, 1, 1),
                           conditions=(Condition("I21.4", D(2025, 12, 31)),))
    criteria = "not diagnosis in I21 within 6 months"
    assert not verdict(criteria, record, D(2026, 6, 30))[0]
    assert verdict(criteria, record, D(2026, 7, 1))[0]
    leap = PatientRecord(birth_date=D(2008, 2, 29), complete=True, as_of=D(2026, 1, 1))
    assert not verdict("age >= 18", leap, D(2026, 2, 28))[0]
    assert verdict("age >= 18", leap, D(2026, 3, 1))[0]


def test_counts_and_at_least_k() -> None:
    copd = PatientRecord(birth_date=D(1958, 8, 8), complete=True, as_of=D(2026, 2, 1), conditions=(
        Condition("J44.1", D(2025, 3, 10)), Condition("J44.1", D(2025, 11, 2)), Condition("J44.1", D(2023, 1, 1))))
    assert verdict("count(diagnosis in J44.1 within 12 months) >= 2", copd)[0]
    assert not verdict("count(diagnosis in J44.1 within 12 months) >= 3", copd)[0]
    assert verdict("count(diagnosis in J44.1) >= 3", copd)[0]
    assert verdict("count(diagnosis in E11) = 0", copd)[0]
    assert verdict("at least 2 of (age >= 60, diagnosis in J44.1, diagnosis in E11)", copd)[0]
    assert not verdict("at least 3 of (age >= 60, diagnosis in J44.1, diagnosis in E11)", copd)[0]
    assert verdict("not at least 2 of (age >= 80, diagnosis in E11, diagnosis in J44.1)", copd)[0]
    # One operand: "at least 1 of (x)" is x (the compiler once read a lone OR operand as an AND of its parts).
    assert verdict("at least 1 of (age >= 60 or diagnosis in E11)", copd)[0]
    assert verdict("not at least 1 of (age >= 60 and diagnosis in J44.1 and diagnosis in E11)", copd)[0]
    assert not verdict("at least 1 of (age >= 80 or diagnosis in E11)", copd)[0]


def test_exclusions_by_snomed_codes_are_refused() -> None:
    """A complete record holds SNOMED CT codes only where the source gave them (the code map completes entries in
    ICD-10-CM, ICD-10-PCS, CVX, ATC and RxNorm), so the same lung cancer coded only as C34.90 has no SNOMED CT key:
    "not diagnosis in snomed:X" would admit it. Exclusions and upper bounds on counts by SNOMED CT are refused;
    inclusions by SNOMED CT stay."""
    nsclc = "254637007"  # SNOMED CT: non-small cell lung cancer
    record = PatientRecord(birth_date=D(1960, 1, 1), complete=True, as_of=D(2026, 2, 1),
                           conditions=(Condition("C34.90", D(2025, 6, 1)),))
    for text in (f"not diagnosis in snomed:{nsclc}", f"diagnosis not in snomed:{nsclc}",
                 f"count(diagnosis in snomed:{nsclc}) = 0", f"count(diagnosis in snomed:{nsclc}) <= 1",
                 f"not count(diagnosis in snomed:{nsclc}) >= 2", f"not (diagnosis in snomed:{nsclc} or age < 18)",
                 "not procedure in snomed:80146002", "not allergy in snomed:91936005",
                 "not hospitalization in snomed:22298006", "not immunization in snomed:86198006"):
        with pytest.raises(CriteriaNotExpressibleError, match="cannot name snomed codes"):
            compile_program(text)
    assert not verdict("not diagnosis in C00-C96", record)[0]  # the ICD-10-CM exclusion sees the cancer
    assert verdict(f"diagnosis in snomed:{nsclc} or diagnosis in C34.*", record)[0]
    assert verdict("not hospitalization in I21.*", record)[0]  # the unknown-reason code the compiler adds stays


def test_upper_bounds_on_counts() -> None:
    # Three J44.1 entries, two of them in the last 12 months (TODAY is 2026-03-02).
    copd = PatientRecord(birth_date=D(1958, 8, 8), complete=True, as_of=D(2026, 2, 1), conditions=(
        Condition("J44.1", D(2025, 3, 10)), Condition("J44.1", D(2025, 11, 2)), Condition("J44.1", D(2023, 1, 1))))
    assert verdict("count(diagnosis in J44.1) <= 3", copd)[0]
    assert verdict("count(diagnosis in J44.*) < 4", copd)[0]  # the category's aggregate counts its codes
    assert verdict("count(diagnosis in J44.1) <= 2", copd) == (False, "count(diagnosis in J44.1) <= 2")
    assert verdict("not count(diagnosis in J44.1) >= 4", copd)[0]
    assert not verdict("not count(diagnosis in J44.1) >= 3", copd)[0]
    # A window is read strictly: the class's whole count, unless it has no entry in the window at all.
    assert not verdict("count(diagnosis in J44.1 within 12 months) <= 2", copd)[0]
    assert verdict("count(diagnosis in J44.1 within 6 months) <= 2", copd)[0] is False
    assert verdict("count(diagnosis in J44.1 within 2 months) <= 2", copd)[0]  # none since 2026-01-02
    assert verdict("count(diagnosis in J44.1) = 3", copd)[0]
    assert not verdict("count(diagnosis in J44.1) = 2", copd)[0]
    assert verdict("count(diagnosis in E11.*) <= 1", copd)[0]  # absent class: 0 entries
    # Over several classes: the sum of their counts.
    both = dataclasses.replace(copd, conditions=(Condition("J44.1", D(2025, 3, 10)), Condition("I10", D(2020, 1, 1))))
    assert verdict("count(diagnosis in {J44.1, I10}) <= 2", both)[0]
    assert not verdict("count(diagnosis in {J44.1, I10}) <= 1", both)[0]
    only_copd = dataclasses.replace(both, conditions=both.conditions[:1])
    assert verdict("count(diagnosis in {J44.1, I10}) <= 1", only_copd)[0]
    # "At most" is an exclusion-like statement: it holds only over a complete, fresh record.
    partial = dataclasses.replace(copd, complete=False)
    assert verdict("count(diagnosis in E11.*) <= 1", partial) == (False, "count(diagnosis in E11.*) <= 1")
    stale = dataclasses.replace(copd, as_of=D(2024, 1, 1), conditions=copd.conditions[2:])
    assert not verdict("count(diagnosis in J44.1) <= 3", stale)[0]
    program = compile_program("count(medication in atc:N06A) <= 1")
    (atom,) = program.atoms
    assert isinstance(atom, SetAtom) and atom.mode == NONE_OR_LAST and atom.key_lo == atom.key_hi
    assert atom.value_hi == 1 and atom.needs_complete_record


def test_negations_compile_to_positive_atoms() -> None:
    program = compile_program("not (latest(hba1c) between 7 and 10.5 within 90 days)")
    assert program.root.threshold == 1 and len(program.atoms) == 3
    assert all(isinstance(a, SetAtom) and a.mode == NONE_OR_LAST for a in program.atoms)
    windowed = compile_program("not diagnosis in C77-C79 within 5 years")
    assert len(windowed.atoms) == 3 and windowed.root.is_and  # one aggregate per category
    grouped = compile_program("not diagnosis in C00-C96 within 5 years")
    assert len(grouped.atoms) == 1  # the named group's aggregate
    assert compile_program("age >= 18").encode() == compile_program("age  >=  18").encode()
    assert compile_program("age >= 18").sha256() != compile_program("age >= 19").sha256()


def test_windowed_exclusions_over_adjacent_classes_check_every_class() -> None:
    # Regression: adjacent classes merge into one code interval ({atc:C02, atc:C03}, pcs:0210..0213, two
    # consecutive RxCUIs or CVX codes), and a windowed exclusion read only the first class's aggregate, so a
    # recent entry of a later class was never seen and the ineligible patient was admitted.
    recent = D(2026, 1, 10)
    cases = [
        ("not medication in {atc:C02, atc:C03} within 6 months", dict(medications=(Medication("C03AA03", recent),))),
        ("not procedure in {pcs:0210, pcs:0211, pcs:0212, pcs:0213} within 90 days",
         dict(procedures=(Procedure("021209W", recent),))),
        ("not procedure in {pcs:0210, pcs:0211, pcs:0212, pcs:0213, pcs:0270, pcs:0271, pcs:0272, pcs:0273} "
         "within 3 months", dict(procedures=(Procedure("02713DZ", recent),))),
        ("not medication in {rxnorm:6809, rxnorm:6810} within 3 months",
         dict(medications=(Medication("6810", recent, system="rxnorm"),))),
        ("not immunization in {cvx:03, cvx:04} within 60 days", dict(immunizations=(Immunization("04", recent),))),
    ]
    for criteria, changes in cases:
        assert verdict(criteria, t2d_record())[0], criteria
        assert verdict(criteria, t2d_record(**changes)) == (False, criteria), criteria
    program = compile_program("not procedure in {pcs:0210, pcs:0211, pcs:0212, pcs:0213} within 90 days")
    assert len(program.atoms) == 4  # one aggregate per class
    assert len(compile_program("not procedure in pcs:021 within 90 days").atoms) == 1


@pytest.mark.parametrize(
    "criteria",
    [
        "not any(hba1c) >= 9",  # no per-code maximum is recorded
        "count(hospitalization in I50.*) <= 2",  # an admission of unknown reason may have been for I50
        "count(hba1c >= 7) <= 2",  # aggregates count entries, not values
        "count(medication in {atc:C02, atc:C03, atc:C07, atc:C08, atc:C09}) <= 1",  # 10 atoms
        "count(diagnosis in J44.1) != 2",
        "not active diagnosis in I21 within 6 months",  # two bounds on an exclusion over a class
        "not diagnosis in E11 before 2020-01-01",  # an upper date bound over a class
        "count(diagnosis in {E10, J44.1}) >= 2",  # a count over two ranges
        "not diagnosis in A00-Z99 within 1 year",  # too many class nodes
    ],
)
def test_what_cannot_be_checked_soundly_is_refused(criteria: str) -> None:
    with pytest.raises(CriteriaNotExpressibleError) as caught:
        compile_program(criteria)
    assert caught.value.column is not None


@pytest.mark.parametrize(
    ("criteria", "column"),
    [
        ("hba1c >= 7.255", 1),
        ("medication in atc:Q10", 1),
        ("diagnosis in snomed:44054007", 1),
        ("weight_loss >= 5", 1),
        ("smoking_status >= current", 1),
        ("age >= 18 and procedure in pcs:0D16 within 2 fortnights", 46),
        ("latest(hba1c) between 7 and", 28),
    ],
)
def test_errors_point_at_the_text(criteria: str, column: int) -> None:
    with pytest.raises(CriteriaSyntaxError) as caught:
        compile_program(criteria)
    assert caught.value.column == column


def test_parser_errors_show_a_caret() -> None:
    with pytest.raises(CriteriaSyntaxError) as caught:
        compile_program("diagnosis in E11 within 3 parsecs")
    assert "^" in str(caught.value) and caught.value.column == 27


# --------------------------------------------------------------------------- random records vs an oracle


ICD_POOL = ["E11.9", "E11.65", "E10.9", "I21.4", "I10", "J44.1", "C50.911", "C78.00"]
ATC_POOL = ["A10BA02", "A10AE04", "A10AB01", "C09AA02"]
ALLERGY_POOL = ["A10BK01", "A10BK03", "J01CA04"]
STAY_POOL = ["I50.23", "I50.9", "D57.00", "J18.9", ADMISSION_REASON_UNKNOWN]  # the last: no coded reason
START = D(2016, 1, 1)


@st.composite
def records(draw: st.DrawFn) -> PatientRecord:
    as_of = START + dt.timedelta(days=draw(st.integers(3300, 3680)))
    span = (as_of - START).days

    def day() -> dt.date:
        return START + dt.timedelta(days=draw(st.integers(0, span)))

    conditions = tuple(Condition(draw(st.sampled_from(ICD_POOL)), day()) for _ in range(draw(st.integers(0, 5))))
    medications = []
    for _ in range(draw(st.integers(0, 4))):
        start = day()
        ongoing = draw(st.booleans())
        end = None if ongoing else min(as_of, start + dt.timedelta(days=draw(st.integers(0, 400))))
        code = draw(st.sampled_from(ATC_POOL))
        dose = Decimal(draw(st.sampled_from([500, 1000, 1500, 2000]))) if code == "A10BA02" and draw(
            st.booleans()) else None
        medications.append(Medication(code, start, end=end, status="active" if ongoing else "stopped",
                                      daily_dose=dose, dose_unit="mg" if dose is not None else ""))
    observations = tuple(obs("hba1c", str(Decimal(draw(st.integers(50, 120))) / 10), day())
                         for _ in range(draw(st.integers(0, 4))))
    observations += tuple(obs("pack_years", str(draw(st.integers(0, 40))), day())
                          for _ in range(draw(st.integers(0, 2))))
    allergies = tuple(Allergy(draw(st.sampled_from(ALLERGY_POOL)), day()) for _ in range(draw(st.integers(0, 2))))
    encounters = []
    for _ in range(draw(st.integers(0, 2))):
        admitted = day()
        stays = draw(st.booleans())
        reason = draw(st.sampled_from(STAY_POOL))
        discharged = min(as_of, admitted + dt.timedelta(days=draw(st.integers(0, 20))))
        system = "snomed" if reason == ADMISSION_REASON_UNKNOWN else "icd10cm"
        encounters.append(Encounter(reason, admitted, system=system, status="in-progress") if stays
                          else Encounter(reason, admitted, system=system, discharged=discharged))
    details = tuple(DiagnosisDetail(draw(st.sampled_from(["1187332001", "28899001"])),
                                    draw(st.sampled_from(["C34.11", "C18.9"])), day())
                    for _ in range(draw(st.integers(0, 2))))
    birth = D(1940, 1, 1) + dt.timedelta(days=draw(st.integers(0, 25_000)))
    return PatientRecord(birth_date=birth, complete=draw(st.booleans()), as_of=as_of, conditions=conditions,
                         medications=tuple(medications), observations=observations, allergies=allergies,
                         encounters=tuple(encounters), diagnosis_details=details)


@dataclass(frozen=True)
class Clause:
    text: str
    pos: Callable[[PatientRecord, int], bool]
    neg: Callable[[PatientRecord, int], bool] | None


def _fresh(record: PatientRecord, today_ord: int) -> bool:
    return record.complete and record.record_as_of.toordinal() >= today_ord - 365


def _months_ago(today_ord: int, months: int) -> int:
    return packed_date(D.fromordinal(today_ord)) - 32 * months


@st.composite
def clauses(draw: st.DrawFn) -> Clause:
    kind = draw(st.sampled_from(["dx", "dx_window", "med_window", "latest", "any", "age", "count", "allergy", "stay",
                                 "dose", "histology", "pack_years", "at_most"]))
    if kind in ("allergy", "stay", "dose", "histology", "pack_years"):
        return draw(new_kind_clauses(kind))
    if kind == "at_most":
        return draw(at_most_clauses())
    if kind in ("dx", "dx_window"):
        pattern = draw(st.sampled_from(["E11.*", "E10", "I21", "J44.1", "C00-C96", "E08-E13", "C77-C79"]))
        lo, hi = codes.clinical_code_range("icd10cm", pattern)
        months = draw(st.integers(1, 60)) if kind == "dx_window" else None

        def match(r: PatientRecord, t: int) -> list[Condition]:
            return [c for c in r.conditions if lo <= codes.encode_clinical_code("icd10cm", c.code) <= hi
                    and (months is None or packed_date(c.onset) >= _months_ago(t, months))]

        text = f"diagnosis in {pattern}" + (f" within {months} months" if months else "")
        return Clause(text, lambda r, t: bool(match(r, t)), lambda r, t: _fresh(r, t) and not match(r, t))
    if kind == "med_window":
        prefix = draw(st.sampled_from(["A10A", "A10B", "A10", "C09AA02"]))
        months = draw(st.integers(1, 24))

        def used(r: PatientRecord, t: int) -> bool:
            return any(m.code.startswith(prefix) and (m.end is None or packed_date(m.end) >= _months_ago(t, months))
                       for m in r.medications)

        return Clause(f"medication in atc:{prefix} within {months} months", used,
                      lambda r, t: _fresh(r, t) and not used(r, t))
    if kind in ("latest", "any"):
        value = Decimal(draw(st.integers(50, 120))) / 10
        op = draw(st.sampled_from([">=", "<"]))
        days = draw(st.one_of(st.none(), st.integers(10, 900)))

        def cmp(v: Decimal) -> bool:
            return v >= value if op == ">=" else v < value

        def in_window(o: Observation, t: int) -> bool:
            return days is None or o.effective.toordinal() >= t - days

        window = f" within {days} days" if days else ""
        if kind == "any":
            def some(r: PatientRecord, t: int) -> bool:
                return any(cmp(Decimal(o.value)) and in_window(o, t) for o in _hba1c(r))

            return Clause(f"any(hba1c) {op} {value}{window}", some, None)

        def latest_ok(r: PatientRecord, t: int) -> bool | None:
            if not _hba1c(r):
                return None
            latest = max(_hba1c(r), key=lambda o: (o.effective, Decimal(o.value)))
            return cmp(Decimal(latest.value)) and in_window(latest, t)

        return Clause(f"latest(hba1c) {op} {value}{window}",
                      lambda r, t: _fresh(r, t) and latest_ok(r, t) is True,
                      lambda r, t: _fresh(r, t) and latest_ok(r, t) is not True)
    if kind == "age":
        years = draw(st.integers(18, 85))

        def old_enough(r: PatientRecord, t: int) -> bool:
            return packed_date(r.birth_date) + 384 * years <= packed_date(D.fromordinal(t))

        return Clause(f"age >= {years}", old_enough, lambda r, t: not old_enough(r, t))
    k = draw(st.integers(1, 3))
    months = draw(st.integers(6, 48))

    def many(r: PatientRecord, t: int) -> bool:
        return sum(c.code == "J44.1" and packed_date(c.onset) >= _months_ago(t, months) for c in r.conditions) >= k

    def none(r: PatientRecord, t: int) -> bool:
        return _fresh(r, t) and not any(c.code == "J44.1" and packed_date(c.onset) >= _months_ago(t, months)
                                        for c in r.conditions)

    def fewer(r: PatientRecord, t: int) -> bool:  # at most k - 1: J44.1's whole count, or none in the window
        return none(r, t) or _fresh(r, t) and sum(c.code == "J44.1" for c in r.conditions) <= k - 1

    return Clause(f"count(diagnosis in J44.1 within {months} months) >= {k}", many, none if k == 1 else fewer)


@st.composite
def at_most_clauses(draw: st.DrawFn) -> Clause:
    """``count(...) <= m`` over one or two classes. Each class's aggregate counts its entries of every date, so
    the circuit reads a class with an entry in the window as all its entries, and one with none in the window
    as 0: the sum of those is at most m (stricter than the count in the window, never looser). The negation is
    the exact "at least m + 1 in the window" (one class only)."""
    most = draw(st.integers(1, 3))
    months = draw(st.one_of(st.none(), st.integers(1, 60)))
    window = "" if months is None else f" within {months} months"
    if draw(st.booleans()):
        patterns = draw(st.sampled_from([["E11.*"], ["J44.1"], ["I21", "I10"], ["C00-C96"], ["E08-E13"]]))
        text = f"count(diagnosis in {{{', '.join(patterns)}}}{window}) <= {most}"
        ranges = [codes.clinical_code_range("icd10cm", p) for p in patterns]

        def classes(r: PatientRecord) -> list[list[int]]:  # per class, the onset of each entry
            return [[packed_date(c.onset) for c in r.conditions if c.system == "icd10cm"
                     and lo <= codes.encode_clinical_code("icd10cm", c.code) <= hi] for lo, hi in ranges]
    else:
        prefixes = draw(st.sampled_from([["A10"], ["A10B"], ["C09AA02"], ["A10A", "C09"]]))
        text = f"count(medication in {{{', '.join('atc:' + p for p in prefixes)}}}{window}) <= {most}"

        def classes(r: PatientRecord) -> list[list[int]]:  # per class, the end of each entry (ongoing: latest)
            return [[packed_date(m.end) if m.end is not None else 1 << 22 for m in r.medications
                     if m.system == "atc" and m.code.startswith(p)] for p in prefixes]

    def in_window(days: list[int], t: int) -> int:
        return sum(months is None or day >= _months_ago(t, months) for day in days)

    def pos(r: PatientRecord, t: int) -> bool:
        return _fresh(r, t) and sum(len(days) for days in classes(r) if in_window(days, t)) <= most

    return Clause(text, pos, lambda r, t: sum(in_window(days, t) for days in classes(r)) > most)


def _hba1c(record: PatientRecord) -> list[Observation]:
    return [o for o in record.observations if o.code == "4548-4"]


@st.composite
def new_kind_clauses(draw: st.DrawFn, kind: str) -> Clause:
    """Clauses over the kinds of entry added to the sets: allergies, admissions, doses, histology, pack-years."""
    if kind == "allergy":
        prefix = draw(st.sampled_from(["A10BK", "A10BK03", "J01C"]))

        def allergic(r: PatientRecord, t: int) -> bool:
            return any(a.code.startswith(prefix) for a in r.allergies)

        return Clause(f"allergy in atc:{prefix}", allergic, lambda r, t: _fresh(r, t) and not allergic(r, t))
    if kind == "stay":
        pattern = draw(st.sampled_from(["I50.*", "D57.0*"]))
        lo, hi = codes.clinical_code_range("icd10cm", pattern)
        months = draw(st.integers(1, 36))

        def in_window(e: Encounter, t: int) -> bool:
            return e.discharged is None or packed_date(e.discharged) >= _months_ago(t, months)

        def admitted(r: PatientRecord, t: int) -> bool:
            return any(e.system == "icd10cm" and lo <= codes.encode_clinical_code("icd10cm", e.code) <= hi
                       and in_window(e, t) for e in r.encounters)

        def unknown(r: PatientRecord, t: int) -> bool:  # an admission of unknown reason may have been for the pattern
            return any(e.code == ADMISSION_REASON_UNKNOWN and in_window(e, t) for e in r.encounters)

        return Clause(f"hospitalization in {pattern} within {months} months", admitted,
                      lambda r, t: _fresh(r, t) and not admitted(r, t) and not unknown(r, t))
    if kind == "dose":
        floor = draw(st.sampled_from([1000, 1500, 2000]))

        def dosed(r: PatientRecord, t: int) -> bool:
            return any(m.code == "A10BA02" and m.daily_dose is not None and m.daily_dose >= floor
                       for m in r.medications)

        return Clause(f"medication in atc:A10BA02 with dose >= {floor} mg", dosed, None)
    if kind == "histology":
        site = draw(st.sampled_from(["C34.*", "C18.*"]))
        lo, hi = codes.clinical_code_range("icd10cm", site)

        def adeno(r: PatientRecord, t: int) -> bool:
            return any(d.code == "1187332001" and lo <= codes.encode_clinical_code("icd10cm", d.diagnosis) <= hi
                       for d in r.diagnosis_details)

        return Clause(f"histology in snomed:1187332001 of {site}", adeno, None)
    threshold = draw(st.integers(5, 30))

    def heavy(r: PatientRecord, t: int) -> bool | None:
        packs = [o for o in r.observations if o.code == "401201003"]
        if not packs:
            return None
        return Decimal(max(packs, key=lambda o: (o.effective, Decimal(o.value))).value) >= threshold

    return Clause(f"pack_years >= {threshold}", lambda r, t: _fresh(r, t) and heavy(r, t) is True,
                  lambda r, t: _fresh(r, t) and heavy(r, t) is not True)


@st.composite
def formulas(draw: st.DrawFn, depth: int = 2) -> tuple[str, Callable[[PatientRecord, int], bool],
                                                        Callable[[PatientRecord, int], bool] | None]:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        clause = draw(clauses())
        return clause.text, clause.pos, clause.neg
    op = draw(st.sampled_from(["and", "or", "not", "atleast"]))
    if op == "not":
        text, pos, neg = draw(formulas(depth - 1))
        return f"not ({text})", (neg if neg is not None else _never), pos
    parts = [draw(formulas(depth - 1)) for _ in range(draw(st.integers(1 if op == "atleast" else 2, 3)))]
    texts = [p[0] for p in parts]
    poss = [p[1] for p in parts]
    negs = [p[2] for p in parts]
    has_neg = all(n is not None for n in negs)
    if op == "and":
        return (" and ".join(f"({t})" for t in texts), lambda r, t: all(p(r, t) for p in poss),
                (lambda r, t: any(n(r, t) for n in negs if n)) if has_neg else None)
    if op == "or":
        return (" or ".join(f"({t})" for t in texts), lambda r, t: any(p(r, t) for p in poss),
                (lambda r, t: all(n(r, t) for n in negs if n)) if has_neg else None)
    k = draw(st.integers(1, len(parts)))
    return (f"at least {k} of ({', '.join(texts)})", lambda r, t: sum(p(r, t) for p in poss) >= k,
            (lambda r, t: sum(n(r, t) for n in negs if n) >= len(parts) - k + 1) if has_neg else None)


def _never(record: PatientRecord, today_ord: int) -> bool:
    raise AssertionError("a negation the compiler should have refused")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), formulas(), st.integers(-30, 400))
def test_evaluator_agrees_with_the_entry_oracle(record: PatientRecord, formula: tuple[str, Callable[..., bool],
                                                                                      object], shift: int) -> None:
    text, positive, _ = formula
    today = record.record_as_of + dt.timedelta(days=shift)
    try:
        program = compile_program(text)
    except CriteriaNotExpressibleError:
        assume(False)
        return
    expected = positive(record, today.toordinal())
    assert evaluate_program(program, record, today).eligible == expected, program.describe()
    # The prover's leaves, judged by the gadget's native twin, agree with the range semantics: atom by atom,
    # and, for ANY atoms sharing one leaf under an OR, their disjunction.
    on_leaves, on_sets = leaf_truths(program, record, today), atom_truths(program, record, today)
    groups: dict[int, list[int]] = {}
    for index, owner in enumerate(leaf_owners(program)):
        groups.setdefault(index if owner is None else owner, []).append(index)
    for members in groups.values():
        if len(members) == 1:
            assert on_leaves[members[0]] == on_sets[members[0]]
        else:
            assert any(on_leaves[m] for m in members) == any(on_sets[m] for m in members)
            assert all(on_sets[m] for m in members if on_leaves[m])  # a shared leaf never invents a fact


def test_as_of_reference_date_is_the_fixture_day() -> None:
    assert AS_OF < TODAY_DATE


@settings(max_examples=60, deadline=None)
@given(formulas(depth=1), formulas(depth=1))
def test_program_encoding_tells_programs_apart(first: tuple[str, object, object],
                                                second: tuple[str, object, object]) -> None:
    try:
        a, b = compile_program(first[0]), compile_program(second[0])
    except CriteriaNotExpressibleError:
        assume(False)
        return
    assert (a.encode() == b.encode()) == (a == b)
    assert a.encode() == compile_program(first[0]).encode()  # deterministic
    policy = compile_program(first[0], Policy(max_record_age_days=30))
    assert policy.encode() != a.encode()


def test_flat_clauses_for_fixed_slot_circuits() -> None:
    program = compile_program(BENCHMARK)
    assert program.flat_clauses() == tuple((1, (i,)) for i in range(8))
    threshold = compile_program("age >= 18 and at least 2 of (bmi >= 30, diagnosis in I10, hba1c >= 9)")
    assert threshold.flat_clauses() == ((1, (0,)), (2, (1, 2, 3)))
    with pytest.raises(EligibilityError):
        compile_program("(age >= 18 and bmi >= 30) or (age >= 65 and diagnosis in I10)").flat_clauses()


def test_any_atoms_under_one_or_share_a_leaf() -> None:
    program = compile_program(
        "diagnosis in {E10.*, E11.*} or medication in atc:A10BA within 90 days or diagnosis in I10")
    owners = leaf_owners(program)
    by_set: dict[str, set[int | None]] = {}
    for atom, owner in zip(program.atoms, owners, strict=True):
        assert isinstance(atom, SetAtom)
        by_set.setdefault(atom.set_name, set()).add(owner)
    assert all(len(group) == 1 for group in by_set.values()), owners  # one leaf per set
    assert len(set(owners)) == 2
    # Not under "at least 2 of", not in a count's chain, not for LAST/NONE atoms: one leaf each.
    for text in ("at least 2 of (diagnosis in E10.*, diagnosis in E11.*, diagnosis in I10)",
                 "count(diagnosis in J45.* within 12 months) >= 2 or diagnosis in J44.*",
                 "hba1c >= 7 or egfr < 30", "not diagnosis in {E10.*, E11.*}"):
        program = compile_program(text)
        owners = leaf_owners(program)
        assert owners == tuple(None if isinstance(atom, HeaderAtom) else i
                               for i, atom in enumerate(program.atoms)), text


def test_shared_leaf_opens_the_satisfying_entry() -> None:
    program = compile_program("diagnosis in E10.* or diagnosis in E11.* or diagnosis in I10")
    record = t2d_record(conditions=(Condition("I10", D(2019, 1, 1)),))
    assert evaluate_program(program, record, TODAY_DATE).eligible
    assert any(leaf_truths(program, record, TODAY_DATE))
    record = t2d_record(conditions=(Condition("J45", D(2019, 1, 1)),))
    assert not evaluate_program(program, record, TODAY_DATE).eligible
    assert not any(leaf_truths(program, record, TODAY_DATE))
