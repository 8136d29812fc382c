"""The kinds of entry added to the schema-v2 sets without changing the leaf or key layout (allergies, diagnosis
details, hospital admissions, daily doses, SNOMED CT observables, ordinal answers), natively and in the circuit:
each has a valid witness and crafted invalid ones (a leaf of another kind, a changed value, an older entry, a
wrong low neighbour) that the circuit refuses. Also the NONE-merge of the compiler."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from records import obs, t2d_record

from zkhealth.circuit import CompiledCircuit, compile
from zkhealth.credentials.dates import date_to_epoch_day
from zkhealth.credentials.record import (
    KIND_TAGS,
    Allergy,
    DiagnosisDetail,
    Encounter,
    Medication,
    PatientRecord,
    RecordCredential,
    describe_key,
)
from zkhealth.credentials.sorted_set import split_key
from zkhealth.eligibility.dedicated import criteria_circuit, criteria_inputs
from zkhealth.eligibility.evaluate import evaluate_program
from zkhealth.eligibility.program import NONE_OR_LAST, SetAtom, compile_program
from zkhealth.errors import CriteriaNotExpressibleError, CriteriaSyntaxError, EncodingError, WitnessError

D = dt.date
TODAY = D(2026, 3, 2)


def _credential(record: PatientRecord) -> RecordCredential:
    issued = date_to_epoch_day(record.record_as_of)
    return RecordCredential(credential_id=7, subject_commitment=3, issuer_public_key=(1, 2),
                            issuer_ed25519=b"\2" * 32, issued_at=issued, expires_at=issued + 20_000, record=record)


def _solves(compiled: CompiledCircuit, values: dict[str, Any]) -> bool:
    try:
        compiled.solve_witness(values)
    except WitnessError:
        return False
    return True


def _with_leaf(credential: RecordCredential, set_name: str, index: int, atom: int = 0,
               fields: list[int] | None = None) -> dict[str, Any]:
    """Inputs where atom ``atom`` opens leaf ``index`` of a set (optionally with altered fields)."""
    tree = credential.sets()[set_name]
    proof = tree.proof(index)
    return {f"atom{atom}_leaf": fields if fields is not None else list(tree.leaves[index].fields()),
            f"atom{atom}_siblings": list(proof.flat_siblings), f"atom{atom}_path": list(proof.path_bits)}


def _index_of(credential: RecordCredential, set_name: str, text: str) -> int:
    tree = credential.sets()[set_name]
    return next(i for i, key in enumerate(tree.keys) if describe_key(set_name, key).startswith(text))


# --------------------------------------------------------------------------- native


def test_kinds_have_their_own_tags_in_the_shared_sets() -> None:
    seen: dict[str, set[int]] = {}
    for set_name, systems in KIND_TAGS.values():
        for raw, aggregate in systems.values():
            assert not {raw, aggregate} & seen.setdefault(set_name, set()), (set_name, raw)
            seen[set_name] |= {raw, aggregate}
    assert all(max(tags) < 16 for tags in seen.values())  # a 4-bit tag
    record = t2d_record(allergies=(Allergy("A10BK01", D(2020, 1, 1)), Allergy("763875007", D(2021, 1, 1),
                                                                              system="snomed")),
                        encounters=(Encounter("I50.9", D(2025, 5, 1), discharged=D(2025, 5, 4)),),
                        diagnosis_details=(DiagnosisDetail("1187332001", "E11.9", D(2022, 6, 1)),))
    keys = {name: [split_key(k)[0] for k in tree.keys[1:]] for name, tree in record.sets().items()}
    assert {5, 6, 9, 10, 11, 12} <= set(keys["conditions"]) and {5, 6} <= set(keys["procedures"])


def test_entries_refuse_what_they_cannot_record() -> None:
    with pytest.raises(EncodingError):
        Medication("A10BB01", D(2024, 1, 1), daily_dose=Decimal("5"), dose_unit="mg")  # not in the dose table
    with pytest.raises(EncodingError):
        Medication("A10BA02", D(2024, 1, 1), daily_dose=Decimal("1.5"), dose_unit="g")  # not the table's unit
    with pytest.raises(EncodingError):
        Medication("A10BA02", D(2024, 1, 1), daily_dose=Decimal("1000.5"), dose_unit="mg")  # more decimals
    with pytest.raises(EncodingError):
        Medication("A10BA02", D(2024, 1, 1), daily_dose=Decimal("0"), dose_unit="mg")  # 0 means "no dose"
    with pytest.raises(EncodingError):
        Encounter("I50.9", D(2025, 5, 1))  # finished without a discharge day
    with pytest.raises(EncodingError):
        Encounter("I50.9", D(2025, 5, 1), discharged=D(2025, 4, 1))
    with pytest.raises(EncodingError):
        Allergy("A10BK01", D(2020, 1, 1), system="icd10cm")
    with pytest.raises(EncodingError):
        Allergy("A10BK01", D(2020, 1, 1), type="side effect")
    with pytest.raises(EncodingError):
        DiagnosisDetail("1187332001", "C34.99", D(2025, 1, 1))  # not an ICD-10-CM code
    with pytest.raises(EncodingError):
        obs("pack_years", "10.25", D(2025, 1, 1))  # one decimal


def test_record_json_round_trip_keeps_old_documents_unchanged() -> None:
    plain = t2d_record()
    assert set(plain.to_json()) == {"birthDate", "gender", "researchConsent", "complete", "asOf", "conditions",
                                    "medications", "procedures", "observations"}
    rich = t2d_record(medications=(Medication("A10BA02", D(2022, 7, 1), daily_dose=Decimal("1500"), dose_unit="mg"),),
                      allergies=(Allergy("A10BK03", D(2020, 1, 1), type="intolerance", resolved=D(2021, 1, 1),
                                         clinical_status="resolved"),),
                      encounters=(Encounter("D57.00", D(2026, 1, 2), status="in-progress"),),
                      diagnosis_details=(DiagnosisDetail("1222837003", "E11.9", D(2022, 6, 1)),),
                      observations=(obs("pack_years", "12.5", D(2025, 1, 1)),
                                    obs("urine_dipstick_protein", "2+", D(2025, 1, 1))))
    assert PatientRecord.from_json(rich.to_json()) == rich
    document = rich.to_json()
    document["allergies"] = []
    with pytest.raises(EncodingError):
        PatientRecord.from_json(document)  # present means not empty: one spelling per record


@pytest.mark.parametrize(
    ("criteria", "error"),
    [
        ("not medication in atc:A10BA02 with dose >= 1500 mg", CriteriaNotExpressibleError),
        ("not histology in snomed:1187332001 of C34.*", CriteriaNotExpressibleError),
        ("medication in atc:A10BA with dose >= 1500 mg", CriteriaSyntaxError),  # a class, not an ingredient
        ("medication in atc:A10BA02 with dose >= 1.5 ug", CriteriaSyntaxError),  # metformin is in mg
        ("diagnosis in E11 with dose >= 5 mg", CriteriaSyntaxError),
        ("diagnosis in E11 of C34.*", CriteriaSyntaxError),
        ("allergy in icd10cm:E11", CriteriaSyntaxError),
        ("smoking_status >= former", CriteriaSyntaxError),  # not an ordinal answer list
    ],
)
def test_new_forms_refuse_what_they_cannot_check(criteria: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        compile_program(criteria)
    assert getattr(caught.value, "column", None) is not None


def test_dose_syntax_error_points_at_the_unit() -> None:
    with pytest.raises(CriteriaSyntaxError) as caught:
        compile_program("medication in atc:A10BA02 with dose >= 1500 grams")
    assert caught.value.column == 45 and "^" in str(caught.value)


# --------------------------------------------------------------------------- the circuit


def _record(**changes: Any) -> PatientRecord:
    base = dict(
        medications=(Medication("A10BA02", D(2022, 7, 1), daily_dose=Decimal("2000"), dose_unit="mg"),
                     Medication("A10BA02", D(2020, 1, 1), end=D(2021, 1, 1), status="stopped",
                                daily_dose=Decimal("500"), dose_unit="mg")),
        allergies=(Allergy("J01CA04", D(2015, 1, 1)),),
        encounters=(Encounter("I50.23", D(2025, 9, 1), discharged=D(2025, 9, 6)),),
        diagnosis_details=(DiagnosisDetail("1187332001", "E11.9", D(2022, 6, 1)),),
    )
    base.update(changes)
    return t2d_record(**base)


@pytest.mark.witness
def test_dose_witnesses() -> None:
    program = compile_program("medication in atc:A10BA02 with dose >= 1500 mg")
    compiled = compile(criteria_circuit(program))
    good = _credential(_record())
    base = criteria_inputs(program, good, TODAY)
    assert _solves(compiled, base)
    low = _index_of(good, "medications", "atc A10BA02 2020-01-01")
    assert not _solves(compiled, dict(base, **_with_leaf(good, "medications", low)))  # the old 500 mg entry
    leaf = list(good.sets()["medications"].leaves[low].fields())
    leaf[6] = 2000  # claim the old entry's dose was 2000 mg: the path no longer reaches the root
    assert not _solves(compiled, dict(base, **_with_leaf(good, "medications", low, fields=leaf)))
    aggregate = _index_of(good, "medications", "aggregate atc A10BA02")  # value = 2 entries, outside the range
    assert not _solves(compiled, dict(base, **_with_leaf(good, "medications", aggregate)))
    weak = _credential(_record(medications=(Medication("A10BA02", D(2022, 7, 1), daily_dose=Decimal("1000"),
                                                       dose_unit="mg"),)))
    assert not evaluate_program(program, weak, TODAY).eligible
    assert not _solves(compiled, criteria_inputs(program, weak, TODAY))


@pytest.mark.witness
def test_allergy_exclusion_witnesses() -> None:
    program = compile_program("not allergy in atc:A10BK")
    compiled = compile(criteria_circuit(program))
    clean = _credential(_record())
    base = criteria_inputs(program, clean, TODAY)
    assert _solves(compiled, base)
    allergic = _credential(_record(allergies=(Allergy("J01CA04", D(2015, 1, 1)), Allergy("A10BK01", D(2021, 3, 3)))))
    assert not _solves(compiled, criteria_inputs(program, allergic, TODAY))
    tree = allergic.sets()["conditions"]
    for index in range(len(tree.leaves)):  # no leaf of the record proves "no SGLT2 allergy"
        assert not _solves(compiled, dict(criteria_inputs(program, allergic, TODAY),
                                          **_with_leaf(allergic, "conditions", index))), index
    # A diagnosis of the same number under the diagnosis tag is not an allergy.
    assert evaluate_program(compile_program("allergy in atc:J01CA04"), clean, TODAY).eligible


@pytest.mark.witness
def test_hospitalization_witnesses() -> None:
    program = compile_program("hospitalization in I50.* within 12 months")
    compiled = compile(criteria_circuit(program))
    good = _credential(_record())
    assert _solves(compiled, criteria_inputs(program, good, TODAY))
    # The I50 diagnosis in the same set's neighbour, and a stay too old, do not count.
    hf_dx = _credential(_record(encounters=(), conditions=(*t2d_record().conditions,
                                                             t2d_record().conditions[0].__class__("I50.23",
                                                                                                   D(2025, 9, 1)))))
    assert not evaluate_program(program, hf_dx, TODAY).eligible
    assert not _solves(compiled, criteria_inputs(program, hf_dx, TODAY))
    old = _credential(_record(encounters=(Encounter("I50.23", D(2024, 9, 1), discharged=D(2024, 9, 6)),)))
    assert not _solves(compiled, criteria_inputs(program, old, TODAY))
    raw = _index_of(old, "procedures", "hospitalization icd10cm I50.23")
    leaf = list(old.sets()["procedures"].leaves[raw].fields())
    leaf[4] = date_to_epoch_day(D(2025, 9, 6)) + 719_163  # move the discharge day into the window
    assert not _solves(compiled, dict(criteria_inputs(program, old, TODAY),
                                      **_with_leaf(old, "procedures", raw, fields=leaf)))
    # An exclusion over admissions: the aggregate's latest discharge decides.
    excluded = compile_program("not hospitalization in I50.* within 12 months")
    excluding = compile(criteria_circuit(excluded))
    assert not _solves(excluding, criteria_inputs(excluded, good, TODAY))
    assert _solves(excluding, criteria_inputs(excluded, old, TODAY))


@pytest.mark.witness
def test_histology_witnesses() -> None:
    program = compile_program("histology in snomed:1187332001 of E11.*")
    compiled = compile(criteria_circuit(program))
    good = _credential(_record())
    base = criteria_inputs(program, good, TODAY)
    assert _solves(compiled, base)
    detail = _index_of(good, "conditions", "diagnosis_detail snomed 1187332001")
    leaf = list(good.sets()["conditions"].leaves[detail].fields())
    elsewhere = _credential(_record(diagnosis_details=(DiagnosisDetail("1187332001", "I10", D(2022, 6, 1)),)))
    assert not _solves(compiled, criteria_inputs(program, elsewhere, TODAY))  # qualifies another diagnosis
    leaf[6] += 1
    assert not _solves(compiled, dict(base, **_with_leaf(good, "conditions", detail, fields=leaf)))


@pytest.mark.witness
def test_snomed_observable_and_ordinal_witnesses() -> None:
    program = compile_program("pack_years >= 10 and urine_dipstick_protein < 2+")
    compiled = compile(criteria_circuit(program))
    record = _record(observations=(obs("pack_years", "6", D(2026, 1, 10)), obs("pack_years", "14", D(2024, 1, 10)),
                                   obs("urine_dipstick_protein", "trace", D(2026, 1, 10))))
    credential = _credential(record)
    assert not evaluate_program(program, credential, TODAY).eligible  # the latest pack-years is 6
    base = criteria_inputs(program, credential, TODAY)
    assert not _solves(compiled, base)
    older = _index_of(credential, "observations", "snomed 401201003 2024-01-10")
    assert not _solves(compiled, dict(base, **_with_leaf(credential, "observations", older)))  # not the latest
    heavier = _credential(dataclasses.replace(record, observations=(obs("pack_years", "16", D(2026, 1, 10)),
                                                                    obs("urine_dipstick_protein", "trace",
                                                                        D(2026, 1, 10)))))
    assert _solves(compiled, criteria_inputs(program, heavier, TODAY))
    proteinuric = _credential(dataclasses.replace(record, observations=(obs("pack_years", "16", D(2026, 1, 10)),
                                                                        obs("urine_dipstick_protein", "2+",
                                                                            D(2026, 1, 10)))))
    assert not _solves(compiled, criteria_inputs(program, proteinuric, TODAY))


# --------------------------------------------------------------------------- merged NONE atoms


def test_none_atoms_merge_only_when_nothing_lies_between() -> None:
    merged = compile_program("not diagnosis in E10.* and not diagnosis in E11.* and age >= 18")
    nones = [a for a in merged.atoms if isinstance(a, SetAtom) and a.mode == NONE_OR_LAST]
    assert len(merged.atoms) == 2 and len(nones) == 1
    assert merged.root.children[0].label == "not diagnosis in E10.* / not diagnosis in E11.*"
    # C00-C14 and C15-C26: only the block node C15-C26 (never a diagnosis) lies between.
    assert len(compile_program("not diagnosis in C00-C14 and not diagnosis in C15-C26").atoms) == 1
    # K85.* and K86.0: the category K86 lies between and may be recorded: no merge.
    assert len(compile_program("not diagnosis in {K85.*, K86.0, K86.1}").atoms) == 2
    # Not under an OR, not when an atom is used twice, not across sets.
    assert len(compile_program("not diagnosis in E10.* or not diagnosis in E11.*").atoms) == 2
    assert len(compile_program("not diagnosis in E10.* and not medication in atc:A10A").atoms) == 2


@pytest.mark.parametrize("code", ["E10.9", "E11.65", "E13.9", "I10"])
def test_merged_none_means_the_same(code: str) -> None:
    text = "not diagnosis in E10.* and not diagnosis in E11.*"
    record = t2d_record(conditions=(t2d_record().conditions[0].__class__(code, D(2020, 1, 1)),))
    merged = compile_program(text)
    assert len(merged.atoms) == 1
    expected = code not in ("E10.9", "E11.65")
    assert evaluate_program(merged, record, TODAY).eligible == expected


@pytest.mark.witness
def test_merged_none_circuit_refuses_either_range() -> None:
    program = compile_program("not diagnosis in E10.* and not diagnosis in E11.*")
    compiled = compile(criteria_circuit(program))
    for code, eligible in (("E10.9", False), ("E11.65", False), ("I10", True)):
        credential = _credential(t2d_record(conditions=(t2d_record().conditions[2].__class__(code, D(2020, 1, 1)),)))
        assert _solves(compiled, criteria_inputs(program, credential, TODAY)) == eligible
        tree = credential.sets()["conditions"]
        if not eligible:
            for index in range(len(tree.leaves)):
                assert not _solves(compiled, dict(criteria_inputs(program, credential, TODAY),
                                                  **_with_leaf(credential, "conditions", index)))
