"""FHIR R4 import: the synthetic bundles in tests/fhir/ and hand-made broken variants."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from zkhealth.credentials.fhir import claims_from_bundle
from zkhealth.errors import FhirImportError

pytestmark = pytest.mark.native

BUNDLES = Path(__file__).parent / "fhir"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUNDLES / name).read_text())
    return data


def test_eligible_t2d_adult() -> None:
    claims = claims_from_bundle(BUNDLES / "t2d_adult.json")
    assert claims.birth_date == dt.date(1961, 4, 12)
    assert claims.gender == "female"
    assert [(d.code, d.date) for d in claims.diagnoses] == [
        ("E11.9", dt.date(2019, 3, 4)),
        ("I10", dt.date(2015, 6, 20)),  # 09:30+02:00 is 07:30 UTC, same day
    ]
    assert claims.hba1c is not None and claims.hba1c.value == Decimal("7.4")  # the latest of two
    assert claims.hba1c.date == dt.date(2025, 1, 10)
    assert claims.egfr is not None and claims.egfr.value == Decimal("72")
    assert claims.systolic_bp == 132  # from the blood-pressure panel's component


def test_minor() -> None:
    claims = claims_from_bundle(_load("minor.json"))
    assert claims.birth_date == dt.date(2012, 9, 30)
    assert [d.code for d in claims.diagnoses] == ["J45.20"]
    assert claims.hba1c is None and claims.egfr is None and claims.systolic_bp is None


def test_ckd_with_egfr() -> None:
    claims = claims_from_bundle(json.dumps(_load("ckd_hypertension.json")))
    assert {d.code for d in claims.diagnoses} == {"I12.9", "N18.31"}
    assert claims.egfr is not None and claims.egfr.value == Decimal("52.5")
    assert claims.systolic_bp == 148


def test_oncology() -> None:
    claims = claims_from_bundle((BUNDLES / "oncology.json").read_bytes())
    assert [d.code for d in claims.diagnoses] == ["C50.911", "Z17.0"]


def test_unsupported_coding_system() -> None:
    with pytest.raises(FhirImportError):
        claims_from_bundle(BUNDLES / "unsupported_coding.json")


def test_unsupported_unit() -> None:
    with pytest.raises(FhirImportError):
        claims_from_bundle(BUNDLES / "unsupported_unit.json")


def _mutated(change: Any) -> dict[str, Any]:
    bundle = copy.deepcopy(_load("t2d_adult.json"))
    change(bundle)
    return bundle


def _resource(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    for entry in bundle["entry"]:
        if entry["resource"].get("id") == rid:
            resource: dict[str, Any] = entry["resource"]
            return resource
    raise KeyError(rid)


@pytest.mark.parametrize(
    "change",
    [
        lambda b: _resource(b, "p-0001").update(birthDate="1961"),  # partial date
        lambda b: _resource(b, "p-0001").pop("birthDate"),
        lambda b: _resource(b, "c-1").update(onsetDateTime="2019-03"),
        lambda b: _resource(b, "c-1").pop("onsetDateTime"),
        lambda b: _resource(b, "c-1")["code"]["coding"][0].update(code="E11.99"),  # not a code
        lambda b: _resource(b, "o-2")["valueQuantity"].update(code="mg/dL", unit="mg/dL"),
        lambda b: _resource(b, "o-2")["valueQuantity"].update(system="http://example.org/units"),
        lambda b: _resource(b, "o-2")["valueQuantity"].update(value=7.125),  # 3 decimals: no rounding
        lambda b: _resource(b, "o-2")["valueQuantity"].update(comparator=">"),
        lambda b: _resource(b, "o-3")["valueQuantity"].update(code="mL/min", unit="mL/min"),
        lambda b: _resource(b, "o-4")["component"][0]["valueQuantity"].update(value=132.5),
        lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])),  # two patients
        lambda b: b["entry"].pop(0),  # no patient
        lambda b: b["entry"].extend(
            {
                "resource": dict(
                    copy.deepcopy(_resource(b, "c-1")),
                    id=f"x{i}",
                    code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
                )
            }
            for i, code in enumerate(["E78.5", "N18.30", "K21.9"])
        ),  # five diagnoses
        lambda b: b.update(resourceType="Patient"),
    ],
)
def test_broken_bundles_raise(change: Any) -> None:
    with pytest.raises(FhirImportError):
        claims_from_bundle(_mutated(change))


def test_invalid_calendar_date_is_rejected() -> None:
    with pytest.raises(FhirImportError):
        claims_from_bundle(_mutated(lambda b: _resource(b, "p-0001").update(birthDate="1961-02-30")))


def test_refuted_conditions_and_preliminary_observations_are_skipped() -> None:
    def change(bundle: dict[str, Any]) -> None:
        _resource(bundle, "c-2")["verificationStatus"]["coding"][0]["code"] = "refuted"
        _resource(bundle, "o-2")["status"] = "preliminary"

    claims = claims_from_bundle(_mutated(change))
    assert [d.code for d in claims.diagnoses] == ["E11.9"]
    assert claims.hba1c is not None and claims.hba1c.value == Decimal("7.1")


def test_utc_conversion_can_change_the_day() -> None:
    claims = claims_from_bundle(
        _mutated(lambda b: _resource(b, "c-1").update(onsetDateTime="2019-03-04T23:30:00-05:00"))
    )
    assert claims.diagnoses[0].date == dt.date(2019, 3, 5)


def test_missing_gender_is_unknown() -> None:
    claims = claims_from_bundle(_mutated(lambda b: _resource(b, "p-0001").pop("gender")))
    assert claims.gender == "unknown"


def test_research_consent_comes_from_the_issuer() -> None:
    assert claims_from_bundle(BUNDLES / "t2d_adult.json", research_consent=True).research_consent is True


def test_time_without_zone_offset_is_refused() -> None:
    with pytest.raises(FhirImportError):
        claims_from_bundle(_mutated(lambda b: _resource(b, "c-1").update(onsetDateTime="2019-03-04T10:00:00")))
