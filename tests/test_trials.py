"""The registered trials of circuits/trials/: each compiles, each has an eligible and an ineligible synthetic
patient (native evaluation here; the circuit on the same patients in the slow tier), and the tally in
circuits/trials/README.md is the one the files give."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from records import obs

from zkhealth.circuit import compile
from zkhealth.credentials.dates import date_to_epoch_day
from zkhealth.credentials.record import Condition, Medication, PatientRecord, Procedure, RecordCredential
from zkhealth.eligibility.check import check_criteria_file, tally
from zkhealth.eligibility.dedicated import criteria_circuit, criteria_inputs
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.errors import WitnessError

TRIALS = Path(__file__).resolve().parent.parent / "circuits" / "trials"
D = dt.date
TODAY = D(2026, 3, 2)
AS_OF = D(2026, 2, 25)
LAB = D(2026, 2, 20)
OLD = D(2018, 5, 5)


def record(birth: dt.date, *, gender: str = "female", conditions: tuple[Condition, ...] = (),
           medications: tuple[Medication, ...] = (), procedures: tuple[Procedure, ...] = (),
           observations: tuple[object, ...] = ()) -> PatientRecord:
    return PatientRecord(birth_date=birth, gender=gender, complete=True, as_of=AS_OF, conditions=conditions,
                         medications=medications, procedures=procedures, observations=observations)  # type: ignore[arg-type]


def drop(items: tuple[object, ...], code: str) -> tuple[object, ...]:
    return tuple(item for item in items if getattr(item, "code", None) != code)


def surpass2() -> tuple[PatientRecord, PatientRecord]:
    conditions = (Condition("E11.9", OLD),)
    medications = (Medication("A10BA02", D(2024, 1, 1)),)
    labs = (obs("hba1c", "8.4", LAB), obs("egfr", "71", LAB))
    good = record(D(1966, 3, 1), conditions=conditions, medications=medications, observations=labs)
    bad = record(D(1966, 3, 1), conditions=(*conditions, Condition("K85.90", D(2021, 4, 4))),
                 medications=medications, observations=labs)  # history of pancreatitis
    return good, bad


def dapa_ckd() -> tuple[PatientRecord, PatientRecord]:
    conditions = (Condition("N18.31", OLD), Condition("I10", OLD))
    medications = (Medication("C09AA02", D(2023, 6, 1)),)
    labs = (obs("egfr", "48", LAB), obs("uacr", "310", D(2025, 6, 1)), obs("uacr", "950", LAB))
    good = record(D(1958, 1, 1), gender="male", conditions=conditions, medications=medications, observations=labs)
    bad = record(D(1958, 1, 1), gender="male", conditions=(*conditions, Condition("I21.4", D(2026, 1, 10))),
                 medications=medications, observations=labs)  # myocardial infarction within 12 weeks
    return good, bad


def _hf(ef: str, probnp: str, af: bool, extra: tuple[Condition, ...] = ()) -> PatientRecord:
    conditions = (Condition("I50.22", D(2023, 3, 3)), *((Condition("I48.91", D(2022, 1, 1)),) if af else ()), *extra)
    labs = (obs("nyha", "2", LAB), obs("lvef", ef, LAB), obs("nt_probnp", probnp, LAB), obs("systolic_bp", "118", LAB),
            obs("egfr", "52", LAB))
    return record(D(1950, 6, 6), gender="male", conditions=conditions, observations=labs)


def emperor_reduced() -> tuple[PatientRecord, PatientRecord]:
    # EF 33% needs NT-proBNP >= 1000 without AF but >= 2000 with AF: 1500 passes only without AF.
    return _hf("33", "1500", af=False), _hf("33", "1500", af=True)


def emperor_preserved() -> tuple[PatientRecord, PatientRecord]:
    return _hf("55", "450", af=False), _hf("55", "450", af=True)


def sprint() -> tuple[PatientRecord, PatientRecord]:
    labs = (obs("systolic_bp", "148", LAB), obs("egfr", "55", LAB), obs("lvef", "60", LAB))
    good = record(D(1955, 2, 2), conditions=(Condition("I10", OLD),), observations=labs)
    bad = record(D(1955, 2, 2), conditions=(Condition("I10", OLD), Condition("C61", D(2025, 5, 1))),
                 observations=labs)  # prostate cancer within 2 years
    return good, bad


def step4() -> tuple[PatientRecord, PatientRecord]:
    good = record(D(1980, 1, 1), conditions=(Condition("E78.5", OLD),),
                  observations=(obs("bmi", "28.3", LAB), obs("hba1c", "5.6", LAB)))
    bad = record(D(1980, 1, 1), observations=(obs("bmi", "28.3", LAB), obs("hba1c", "5.6", LAB)))  # no comorbidity
    return good, bad


def keynote189() -> tuple[PatientRecord, PatientRecord]:
    cancer = (Condition("C34.11", D(2026, 1, 5)),)
    good = record(D(1960, 1, 1), conditions=cancer, observations=(obs("ecog", "1", LAB),))
    bad = record(D(1960, 1, 1), conditions=cancer, observations=(obs("ecog", "2", LAB),))
    return good, bad


def clarity() -> tuple[PatientRecord, PatientRecord]:
    labs = (obs("mmse", "25", LAB), obs("bmi", "24.5", LAB))
    good = record(D(1950, 1, 1), conditions=(Condition("G30.1", D(2025, 1, 1)),),
                  medications=(Medication("N06DA02", D(2025, 2, 1)),), observations=labs)
    bad = record(D(1950, 1, 1), conditions=(Condition("G30.1", D(2025, 1, 1)),),
                 medications=(Medication("N06DA02", D(2026, 1, 20)),), observations=labs)  # donepezil started recently
    return good, bad


def hope() -> tuple[PatientRecord, PatientRecord]:
    conditions = (Condition("D57.1", OLD), Condition("D57.00", D(2025, 8, 8)))
    good = record(D(2000, 1, 1), conditions=conditions, observations=(obs("haemoglobin", "8.1", LAB),
                                                                      obs("egfr", "110", LAB)))
    bad = record(D(2000, 1, 1), conditions=conditions, observations=(obs("haemoglobin", "8.1", LAB),
                                                                     obs("egfr", "110", LAB)),
                 procedures=(Procedure("30233N1", D(2026, 2, 1)),))  # transfused within 60 days
    return good, bad


def navigator() -> tuple[PatientRecord, PatientRecord]:
    conditions = (Condition("J45.50", OLD),)
    medications = (Medication("R03AK06", D(2022, 1, 1)),)
    labs = (obs("smoking_status", "never", LAB),)
    good = record(D(1985, 1, 1), conditions=conditions, medications=medications, observations=labs)
    bad = record(D(1985, 1, 1), conditions=(*conditions, Condition("B18.2", OLD)), medications=medications,
                 observations=labs)  # hepatitis C
    return good, bad


def ethos() -> tuple[PatientRecord, PatientRecord]:
    conditions = (Condition("J44.9", OLD), Condition("J44.1", D(2025, 9, 9)))
    smoking = (obs("smoking_status", "former", LAB),)
    good = record(D(1956, 1, 1), gender="male", conditions=conditions, observations=smoking)
    bad = record(D(1956, 1, 1), gender="male", conditions=(Condition("J44.9", OLD),),
                 observations=(obs("smoking_status", "former", LAB),))  # no exacerbation in the last year
    return good, bad


def zuranolone() -> tuple[PatientRecord, PatientRecord]:
    conditions = (Condition("F32.1", D(2023, 2, 2)), Condition("F33.1", D(2026, 1, 10)))
    good = record(D(1990, 1, 1), conditions=conditions)
    bad = record(D(1990, 1, 1), conditions=(Condition("F33.1", D(2026, 1, 10)),))  # no prior episode recorded
    return good, bad


PATIENTS: dict[str, Callable[[], tuple[PatientRecord, PatientRecord]]] = {
    "surpass2_t2d": surpass2, "dapa_ckd": dapa_ckd, "emperor_reduced_hfref": emperor_reduced,
    "emperor_preserved_hfpef": emperor_preserved, "sprint_hypertension": sprint, "step4_obesity": step4,
    "keynote189_nsclc": keynote189, "clarity_ad": clarity, "hope_sickle_cell": hope, "navigator_asthma": navigator,
    "ethos_copd": ethos, "mdd_zuranolone": zuranolone,
}


def test_twelve_registered_trials_with_nct_ids() -> None:
    files = sorted(TRIALS.glob("*.txt"))
    assert len(files) >= 12 and {f.stem for f in files} == set(PATIENTS)
    for path in files:
        check = check_criteria_file(path)
        assert re.fullmatch(r"NCT[0-9]{8}", check.metadata["nct"])
        assert check.criteria and check.program.atoms


@pytest.mark.native
@pytest.mark.parametrize("name", sorted(PATIENTS))
def test_eligible_and_ineligible_patient(name: str) -> None:
    program = check_criteria_file(TRIALS / f"{name}.txt").program
    good, bad = PATIENTS[name]()
    assert evaluate_program(program, good, TODAY).eligible
    verdict = evaluate_program(program, bad, TODAY)
    assert not verdict.eligible and verdict.failing_clause


def test_the_readme_tally_is_reproducible() -> None:
    counts = tally(TRIALS)
    readme = (TRIALS / "README.md").read_text(encoding="utf-8")
    assert counts.table() in readme


def test_trial_check_lists_judgement_items() -> None:
    check = check_criteria_file(TRIALS / "dapa_ckd.txt")
    report = check.format()
    assert "not machine-checkable" in report and "informed consent" in report
    assert check.counts["judgement"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PATIENTS))
def test_circuit_agrees_on_the_trial_patients(name: str) -> None:
    program = check_criteria_file(TRIALS / f"{name}.txt").program
    compiled = compile(criteria_circuit(program))
    issued = date_to_epoch_day(AS_OF)
    for patient, eligible in zip(PATIENTS[name](), (True, False), strict=True):
        credential = RecordCredential(credential_id=1, subject_commitment=2, issuer_public_key=(3, 4),
                                      issuer_ed25519=b"\5" * 32, issued_at=issued, expires_at=issued + 365,
                                      record=patient)
        try:
            compiled.solve_witness(criteria_inputs(program, credential, TODAY))
            solved = True
        except WitnessError:
            solved = False
        assert solved == eligible


def test_trial_check_verb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zkhealth.cli import run

    good = tmp_path / "criteria.txt"
    good.write_text("# name: demo\n# judgement: able to comply with the study visits, in the investigator's opinion\n"
                    "age >= 18 and diagnosis in E11.* and not medication in atc:A10A within 6 months\n")
    assert run(["trial", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "not machine-checkable" in out and "able to comply" in out and "3 atoms" in out
    bad = tmp_path / "bad.txt"
    bad.write_text("age >= 18 and hba1c >= 7.255\n")
    assert run(["trial", "check", str(bad)]) == 2
    small = tmp_path / "small.txt"
    small.write_text("age >= 18\n")
    assert run(["trial", "check", "--cost", str(small)]) == 0
    assert "constraints:" in capsys.readouterr().out
