"""Fuzzing every reader of outside data: no exception outside the library's tree, no hang, bounded memory.

Each test feeds one reader hypothesis-generated inputs (mutations of a valid file or document, hostile JSON
fragments, arbitrary bytes) through :func:`fuzzing.check`, which enforces the input boundary's promise
(docs/cli.md, "Reading files"): the reader accepts the input or raises a :class:`~zkhealth.errors.ZkHealthError`,
within :data:`fuzzing.TIME_LIMIT_SECONDS` and :data:`fuzzing.MEMORY_LIMIT_BYTES`. Every test runs twice: a
short budget in the fast tier and a long one in the slow tier; the session prints how many inputs each
reader saw (``ZKHEALTH_FUZZ_REPORT=PATH`` also writes them as JSON).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fuzzing import (
    COUNTS,
    LONG,
    SHORT,
    binary_inputs,
    budget_settings,
    check,
    hostile_values,
    json_inputs,
    json_values,
    mutated_bytes,
)
from groth16_circuits import chain_r1cs, chain_witness
from hypothesis import given
from hypothesis import strategies as st

from zkhealth.field import FIELD_Q, FIELD_R

BUDGETS = [
    pytest.param(SHORT, id="short", marks=pytest.mark.native),
    pytest.param(LONG, id="long", marks=pytest.mark.slow),
]
ROOT = Path(__file__).resolve().parent.parent
FHIR = ROOT / "tests" / "fhir"
VECTORS = ROOT / "tests" / "vectors" / "snarkjs"


def _run(examples: int, strategy: st.SearchStrategy[Any], body: Any) -> int:
    """Run ``body(value)`` on ``examples`` values drawn from ``strategy``; return how many inputs reached a
    reader through :func:`fuzzing.check` (each of which asserted the boundary's promise). Callers assert it is
    positive: a strategy or body that never reaches the reader would otherwise pass without checking anything."""
    before = sum(COUNTS.values())

    @budget_settings(examples)
    @given(strategy)
    def run(value: Any) -> None:
        body(value)

    run()
    return sum(COUNTS.values()) - before


# --------------------------------------------------------------------------- seeds


@pytest.fixture(scope="module")
def small_keys() -> Any:
    from zkhealth.groth16.generator import setup

    return setup(chain_r1cs(3))


def _montgomery_q(value: int) -> bytes:
    return (value * (1 << 256) % FIELD_Q).to_bytes(32, "little")


def _zkey_g1(point: Any) -> bytes:
    return bytes(64) if point is None else _montgomery_q(point[0]) + _montgomery_q(point[1])


def _zkey_g2(point: Any) -> bytes:
    if point is None:
        return bytes(128)
    (x0, x1), (y0, y1) = point
    return b"".join(_montgomery_q(v) for v in (x0, x1, y0, y1))


def zkey_bytes(pk: Any) -> bytes:
    """A snarkjs Groth16 ``.zkey`` holding ``pk`` (the layout :func:`zkhealth.formats.zkey_file.parse_zkey` reads)."""
    from zkhealth.formats._binfile import write_binfile

    def u32(v: int) -> bytes:
        return v.to_bytes(4, "little")

    vk = pk.vk
    n_public = len(vk.gamma_abc_g1) - 1
    header = b"".join([
        u32(32), FIELD_Q.to_bytes(32, "little"), u32(32), FIELD_R.to_bytes(32, "little"),
        u32(pk.n_wires), u32(n_public), u32(pk.domain_size),
        _zkey_g1(vk.alpha_g1), _zkey_g1(pk.beta_g1), _zkey_g2(vk.beta_g2), _zkey_g2(vk.gamma_g2),
        _zkey_g1(pk.delta_g1), _zkey_g2(vk.delta_g2),
    ])
    r2 = pow(2, 512, FIELD_R)
    coefficients = [(0, e) for e in pk.a_entries] + [(1, e) for e in pk.b_entries]
    section4 = u32(len(coefficients)) + b"".join(
        u32(m) + u32(row) + u32(wire) + (coeff * r2 % FIELD_R).to_bytes(32, "little")
        for m, (row, wire, coeff) in coefficients
    )
    return write_binfile(b"zkey", 1, [
        (1, u32(1)), (2, header), (3, b"".join(_zkey_g1(p) for p in vk.gamma_abc_g1)), (4, section4),
        (5, b"".join(_zkey_g1(p) for p in pk.a_query)), (6, b"".join(_zkey_g1(p) for p in pk.b_g1_query)),
        (7, b"".join(_zkey_g2(p) for p in pk.b_g2_query)), (8, b"".join(_zkey_g1(p) for p in pk.l_query)),
        (9, b"".join(_zkey_g1(p) for p in pk.h_query)),
    ])


def test_the_zkey_seed_is_a_valid_zkey(small_keys: Any) -> None:
    from zkhealth.formats.zkey_file import parse_zkey

    pk, vk = small_keys
    parsed = parse_zkey(zkey_bytes(pk))
    assert parsed.vk.gamma_abc_g1 == vk.gamma_abc_g1 and parsed.a_query == pk.a_query


@pytest.fixture(scope="module")
def issuer_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An issuer (with a key file at the KDF floor), a registry, a credential document, a wallet holding it
    and a revocation database with a few ids."""
    from zkhealth.credentials.credential import subject_commitment
    from zkhealth.credentials.fhir import claims_from_bundle
    from zkhealth.credentials.keyfile import create_issuer_key_file
    from zkhealth.credentials.trees import IssuerRegistry, RevocationTree
    from zkhealth.credentials.wallet import KDF_FLOOR, Wallet

    base = tmp_path_factory.mktemp("fuzz-world")
    issuer = create_issuer_key_file(base / "issuer.key", "pass", kdf=KDF_FLOOR)
    registry = IssuerRegistry()
    registry.add(issuer.public_key)
    wallet = Wallet.create(base / "wallet.zkw", "pass", kdf=KDF_FLOOR)
    issued = issuer.issue(claims_from_bundle(FHIR / "t2d_adult.json"),
                          subject_commitment=subject_commitment(wallet.holder_secret))
    wallet.add_credential(issued.document)
    wallet.save()
    with RevocationTree(base / "revocations.sqlite", depth=4) as tree:
        tree.revoke_many([5, 9, 200, 7])
    return {
        "base": base, "issuer": issuer, "registry": registry, "document": issued.document,
        "key_file": (base / "issuer.key").read_bytes(), "wallet": (base / "wallet.zkw").read_bytes(),
        "db": base / "revocations.sqlite",
    }


# --------------------------------------------------------------------------- JSON


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_strict_json_loader(examples: int) -> None:
    from zkhealth._json import loads_strict

    seed = json.loads((VECTORS / "verification_key.json").read_text())
    strategy = st.one_of(json_inputs(seed), st.text(alphabet='[]{}",:\\0123456789.eE-+ ntrufalse', max_size=400)
                         .map(str.encode))
    assert _run(examples, strategy,
                lambda data: check("json: strict loader", lambda: loads_strict(data), size=len(data))) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_fhir_bundle(examples: int, tmp_path: Path) -> None:
    from zkhealth.credentials.fhir import claims_from_bundle

    seed = json.loads((FHIR / "t2d_adult.json").read_text())
    target = tmp_path / "bundle.json"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check("FHIR bundle (file)", lambda: claims_from_bundle(target), size=len(data))

    assert _run(examples, json_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_fhir_bundle_objects(examples: int) -> None:
    """Bundles handed over as Python objects (the API accepts dicts): same promise, no JSON text involved."""
    from zkhealth.credentials.fhir import claims_from_bundle

    seed = json.loads((FHIR / "ckd_hypertension.json").read_text())

    def body(data: bytes) -> None:
        value = _decoded(data)
        check("FHIR bundle (object)", lambda: claims_from_bundle(data if value is _UNDECODABLE else value),
              size=len(data))

    assert _run(examples, json_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_snarkjs_json(examples: int) -> None:
    from zkhealth.formats.snarkjs_json import parse_proof, parse_public, parse_verifying_key

    readers = {
        "proof.json": (parse_proof, json.loads((VECTORS / "proof.json").read_text())),
        "public.json": (parse_public, json.loads((VECTORS / "public.json").read_text())),
        "verification_key.json": (parse_verifying_key, json.loads((VECTORS / "verification_key.json").read_text())),
    }
    for name, (reader, seed) in readers.items():
        assert _run(examples, json_inputs(seed),
                    lambda data, reader=reader, name=name: check(f"snarkjs {name}", lambda: reader(data),
                                                                 size=len(data))) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_eligibility_proof(examples: int) -> None:
    from zkhealth.eligibility.proof import EligibilityProof

    seed = json.loads(json.dumps({
        "format": "zkhealth.eligibility-proof", "version": 1, "trialId": "0x" + "54" + "00" * 31,
        "criteriaSha256": "a" * 64, "verifyingKeySha256": "b" * 64,
        "publicSignals": {"nullifier": "1", "scope": "2", "today": "20514", "trustedIssuerRoot": "4",
                          "revocationRoot": "5", "recipient": "6"},
        "proof": json.loads((VECTORS / "proof.json").read_text()), "public": ["1", "2", "20514", "4", "5", "6"],
    }))
    assert _run(examples, json_inputs(seed),
                lambda data: check("eligibility proof", lambda: EligibilityProof.from_json(data), size=len(data))) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_trial_file(examples: int, tmp_path: Path) -> None:
    from zkhealth.eligibility import TrialSpec

    spec = TrialSpec.new(tmp_path / "seed.json", "diagnosis in E11.* and age >= 18", trial_id="NCT05000001",
                         name="seed", accepted_window_days=1,
                         operator="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    seed = spec.to_dict()
    target = tmp_path / "trial.json"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check("trial file", lambda: TrialSpec.load(target).trial(), size=len(data))

    assert _run(examples, json_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_issuer_registry(examples: int, issuer_world: dict[str, Any], tmp_path: Path) -> None:
    from zkhealth.credentials.trees import IssuerRegistry

    seed = json.loads(issuer_world["registry"].to_json())
    target = tmp_path / "registry.json"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check("issuer registry", lambda: IssuerRegistry.load(target), size=len(data))

    assert _run(examples, json_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_merkle_proofs(examples: int, issuer_world: dict[str, Any]) -> None:
    from zkhealth.credentials.trees import MerkleProof, NonMembershipProof, RevocationTree

    with RevocationTree(depth=3) as tree:
        tree.revoke_many([4, 10])
        seed = tree.non_membership_proof(6).to_dict()

    def body(data: bytes) -> None:
        value = _decoded(data)
        if value is _UNDECODABLE:
            return

        def parse() -> None:
            try:
                NonMembershipProof.from_dict(value)
            finally:
                MerkleProof.from_dict(value.get("merkle") if isinstance(value, dict) else value)

        check("Merkle proofs", parse, size=len(data))

    assert _run(examples, json_inputs(seed), body) > 0


_UNDECODABLE = object()


def _decoded(data: bytes) -> Any:
    """The test's own decoding of ``data`` (Python's lenient ``json``), outside the reader under test:
    :data:`_UNDECODABLE` when it is not JSON Python can load."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return _UNDECODABLE


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_credential_documents(examples: int, issuer_world: dict[str, Any]) -> None:
    from zkhealth.credentials.vc import decode_credential, parse_document, verify_credential

    seed = issuer_world["document"]
    trusted = [issuer_world["issuer"].public_key]

    def body(data: bytes) -> None:
        def read() -> None:
            parse_document(data)
            decode_credential(data)
            verify_credential(data, trusted_issuers=trusted)

        check("credential (VC document)", read, size=len(data))

    assert _run(examples, json_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_issuer_key_file(examples: int, issuer_world: dict[str, Any], tmp_path: Path) -> None:
    from zkhealth.credentials.keyfile import load_issuer, read_issuer_public_key

    seed = json.loads(issuer_world["key_file"])
    target = tmp_path / "issuer.key"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check("issuer key file (public)", lambda: read_issuer_public_key(target), size=len(data))
        check("issuer key file (decrypt)", lambda: load_issuer(target, "pass"), size=len(data))

    assert _run(max(10, examples // 4), json_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_wtns_input_json(examples: int) -> None:
    """`zkhealth wtns calculate`'s INPUT.json, through a compiled circuit's witness solver."""
    from zkhealth.circuit import Builder
    from zkhealth.circuit import compile as compile_circuit

    def cubic(b: Builder) -> None:
        x = b.private_input("x")
        ys = b.private_inputs("ys", 2)
        b.output("out", x * x * x + x + 5 + ys[0] * ys[1])

    compiled = compile_circuit(cubic, name="cubic")
    seed = {"x": 3, "ys": [1, 2]}

    def body(data: bytes) -> None:
        value = _decoded(data)
        if isinstance(value, dict):
            check("witness inputs (wtns calculate)", lambda: compiled.solve_witness(value), size=len(data))

    assert _run(examples, json_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_fhir_export_v2(examples: int, tmp_path: Path) -> None:
    """The version 2 importer (real exports, documents, collections) over mutated bundles."""
    from zkhealth.credentials.ehr_import import import_bundle

    seeds = [json.loads((FHIR / name).read_text()) for name in ("t2d_record.json", "t2d_adult.json")]
    target = tmp_path / "export.json"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check("FHIR export (version 2 importer)", lambda: import_bundle(target), size=len(data))

    assert _run(examples, st.sampled_from(seeds).flatmap(json_inputs), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_code_map(examples: int, tmp_path: Path) -> None:
    """The issuer's code map (--code-map, a CSV file) over mutated files."""
    from zkhealth.credentials.code_map import read_code_map

    seed = (FHIR / "code_map.csv").read_bytes()
    target = tmp_path / "map.csv"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check("code map (CSV)", lambda: read_code_map(target), size=len(data))

    assert _run(examples, binary_inputs(seed), body) > 0


@pytest.fixture(scope="module")
def health_card(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A SMART Health Card signed here (ES256, raw-deflated payload) and a directory trusting its issuer."""
    import time
    import zlib

    from joserfc import jws as joserfc_jws
    from joserfc.jwk import ECKey
    from joserfc.jws import JWSRegistry
    from joserfc.registry import HeaderParameter

    issuer = "https://clinic.example/shc"
    key = ECKey.generate_key("P-256")
    directory = tmp_path_factory.mktemp("shc")
    jwks_path = directory / "clinic.example" / "shc" / ".well-known" / "jwks.json"
    jwks_path.parent.mkdir(parents=True)
    jwks = {"keys": [{**key.as_dict(private=False), "kid": key.thumbprint(), "alg": "ES256", "use": "sig"}]}
    jwks_path.write_text(json.dumps(jwks))
    bundle = json.loads((FHIR / "t2d_adult.json").read_text())
    payload = {"iss": issuer, "nbf": int(time.time()) - 60,
               "vc": {"type": ["https://smarthealth.cards#health-card"],
                      "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": bundle}}}
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = compressor.compress(json.dumps(payload, separators=(",", ":")).encode()) + compressor.flush()
    registry = JWSRegistry(header_registry={"zip": HeaderParameter("zip", "str")}, algorithms=["ES256"])
    card = joserfc_jws.serialize_compact({"alg": "ES256", "zip": "DEF", "kid": key.thumbprint()}, raw, key,
                                         registry=registry)
    return {"jws": card, "directory": directory, "jwks": jwks, "jwks_path": jwks_path}


def test_the_card_seed_verifies(health_card: dict[str, Any]) -> None:
    from zkhealth.credentials.shc import read_health_cards

    [card] = read_health_cards(health_card["jws"].encode(), health_card["directory"])
    assert card.issuer == "https://clinic.example/shc"


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_smart_health_cards(examples: int, health_card: dict[str, Any], tmp_path: Path) -> None:
    """Card files (the JSON wrapper, a compact JWS, QR payloads) mutated as bytes and as JSON, and the trusted
    issuers' JWKS mutated: a HealthCardError or another library error, never a jose, zlib or JSON one."""
    from zkhealth.credentials.shc import TrustedCardIssuers, encode_qr_numeric, read_health_cards

    wrapper = {"verifiableCredential": [health_card["jws"]]}
    card_file = tmp_path / "card.smart-health-card"
    seeds = [json.dumps(wrapper).encode(), health_card["jws"].encode(), encode_qr_numeric(health_card["jws"]).encode()]
    original_jwks = health_card["jwks_path"].read_bytes()

    def body(case: tuple[str, bytes]) -> None:
        kind, data = case
        health_card["jwks_path"].write_bytes(original_jwks)
        if kind == "jwks":
            health_card["jwks_path"].write_bytes(data)

            def verify() -> None:
                read_health_cards(health_card["jws"].encode(), TrustedCardIssuers(health_card["directory"]))

            check("SMART Health Card issuers (JWKS)", verify, size=len(data))
            return
        card_file.write_bytes(data)
        check("SMART Health Card", lambda: read_health_cards(card_file, health_card["directory"]), size=len(data))

    strategy = st.one_of(
        st.tuples(st.just("card"), st.sampled_from(seeds).flatmap(binary_inputs)),
        st.tuples(st.just("card"), json_inputs(wrapper)),
        st.tuples(st.just("jwks"), json_inputs(health_card["jwks"])),
    )
    try:
        assert _run(max(10, examples // 2), strategy, body) > 0
    finally:
        health_card["jwks_path"].write_bytes(original_jwks)


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_record_credentials(examples: int, issuer_world: dict[str, Any]) -> None:
    """Version 2 credentials (the VC 2.0 envelope with eddsa-jcs-2022 around a whole record) and the record
    JSON inside them, mutated."""
    from zkhealth.credentials.ehr_import import import_bundle
    from zkhealth.credentials.record import PatientRecord
    from zkhealth.credentials.record_vc import parse_record_document, verify_record_credential

    issuer = issuer_world["issuer"]
    record = import_bundle(FHIR / "t2d_record.json").record
    document = issuer.issue_record(record, subject_commitment=5).document
    trusted = [issuer.public_key]

    def credential(data: bytes) -> None:
        def read() -> None:
            parse_record_document(data)
            verify_record_credential(data, trusted_issuers=trusted)

        check("credential (VC 2.0, schema 2)", read, size=len(data))

    assert _run(max(10, examples // 2), json_inputs(document), credential) > 0
    seed = record.to_json()

    def record_json(data: bytes) -> None:
        value = _decoded(data)
        if value is not _UNDECODABLE:
            check("patient record (JSON)", lambda: PatientRecord.from_json(value), size=len(data))

    assert _run(examples, json_inputs(seed), record_json) > 0


# --------------------------------------------------------------------------- binary files


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_r1cs(examples: int, tmp_path: Path) -> None:
    from zkhealth.formats.r1cs_file import r1cs_to_bytes, read_r1cs

    seed = r1cs_to_bytes(chain_r1cs(3))
    target = tmp_path / "circuit.r1cs"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check(".r1cs", lambda: read_r1cs(target), size=len(data))

    assert _run(examples, binary_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_wtns(examples: int, tmp_path: Path) -> None:
    from zkhealth.formats.wtns_file import read_wtns, wtns_to_bytes

    seed = wtns_to_bytes(chain_witness(3, 5))
    target = tmp_path / "witness.wtns"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check(".wtns", lambda: read_wtns(target), size=len(data))

    assert _run(examples, binary_inputs(seed), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_zkey(examples: int, small_keys: Any, tmp_path: Path) -> None:
    from zkhealth.formats.zkey_file import read_zkey

    seed = zkey_bytes(small_keys[0])
    target = tmp_path / "key.zkey"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check(".zkey", lambda: read_zkey(target), size=len(data))

    assert _run(examples, binary_inputs(seed), body) > 0


@pytest.fixture(scope="module")
def ceremony_files() -> tuple[bytes, bytes]:
    """A contributed 2^3 ``.ptau`` and a contributed ``.zkey`` (section 10 holds a contribution), as bytes."""
    from zkhealth.ceremony import phase2, powersoftau
    from zkhealth.formats.ptau_file import ptau_to_bytes
    from zkhealth.formats.zkey_file import zkey_file_to_bytes

    ptau, _ = powersoftau.contribute(powersoftau.new_accumulator(3), name="fuzz", entropy="seed", workers=1)
    prepared = powersoftau.prepare_phase2(ptau, workers=1)
    zkey, _ = phase2.contribute(phase2.new_zkey(chain_r1cs(3), prepared, workers=1), name="fuzz", workers=1)
    return ptau_to_bytes(ptau), zkey_file_to_bytes(zkey)


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_ptau(examples: int, ceremony_files: tuple[bytes, bytes], tmp_path: Path) -> None:
    """The powers of tau reader, and the decoding of every point section it accepted."""
    from zkhealth.formats.ptau_file import read_ptau

    target = tmp_path / "pot.ptau"

    def read_all() -> list[str]:
        ptau = read_ptau(target)
        for section in sorted(ptau.sections):
            if 2 <= section <= 6:
                (ptau.g2 if section in (3, 6) else ptau.g1)(section)
        return [contribution.name for contribution in ptau.contributions]

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check(".ptau", read_all, size=len(data))

    assert _run(examples, binary_inputs(ceremony_files[0]), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_ceremony_zkey(examples: int, ceremony_files: tuple[bytes, bytes], tmp_path: Path) -> None:
    """The one ``.zkey`` parser on a ceremony key (with its contribution section), every section decoded."""
    from zkhealth.formats.zkey_file import proving_key_from_zkey, read_zkey_file

    target = tmp_path / "ceremony.zkey"

    def read_all() -> list[str]:
        zkey = read_zkey_file(target)
        for section in (3, 5, 6, 8, 9):
            zkey.g1(section)
        zkey.g2(7)
        zkey.coefficients()
        proving_key_from_zkey(zkey)
        return [contribution.name for contribution in zkey.contributions]

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check(".zkey (ceremony)", read_all, size=len(data))

    assert _run(examples, binary_inputs(ceremony_files[1]), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_zkhpk(examples: int, small_keys: Any, tmp_path: Path) -> None:
    """Our proving key: the sha256 trailer refuses mutations early, so the mutations also re-seal it."""
    import hashlib

    from zkhealth.formats.zkhpk_file import load_proving_key, proving_key_to_bytes

    seed = proving_key_to_bytes(small_keys[0])
    target = tmp_path / "key.zkhpk"

    def body(pair: tuple[bytes, bool]) -> None:
        data, reseal = pair
        if reseal and len(data) > 32:
            data = data[:-32] + hashlib.sha256(data[:-32]).digest()
        target.write_bytes(data)
        check(".zkhpk proving key", lambda: load_proving_key(target), size=len(data))

    assert _run(examples, st.tuples(binary_inputs(seed[:-32] + seed[-32:]), st.booleans()), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_keys_directory(examples: int, small_keys: Any, tmp_path: Path) -> None:
    """A keys directory (manifest, snarkjs verifying key, proving key) with its manifest or its verifying
    key mutated: loads as the pinned keys or refuses."""
    from zkhealth.eligibility.trial import TrialKeys
    from zkhealth.formats.snarkjs_json import verifying_key_to_dict

    directory = tmp_path / "keys"
    TrialKeys(*small_keys, "a" * 64, "b" * 64).save(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    vk = verifying_key_to_dict(small_keys[1])
    originals = {name: (directory / name).read_bytes() for name in ("manifest.json", "verification_key.json")}

    def body(case: tuple[str, bytes]) -> None:
        name, data = case
        for original, content in originals.items():
            (directory / original).write_bytes(content)
        (directory / name).write_bytes(data)
        check("keys directory (manifest, verifying key)", lambda: TrialKeys.load(directory), size=len(data))

    strategy = st.one_of(st.tuples(st.just("manifest.json"), json_inputs(manifest)),
                         st.tuples(st.just("verification_key.json"), json_inputs(vk)))
    assert _run(max(10, examples // 2), strategy, body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_criteria_file(examples: int, tmp_path: Path) -> None:
    from zkhealth.eligibility.program import compile_program
    from zkhealth.eligibility.trial import read_criteria_file

    seed = (ROOT / "circuits" / "criteria").glob("*.txt")
    seeds = [path.read_bytes() for path in sorted(seed)] or [b"# name: seed\ndiagnosis in E11.* and age >= 18\n"]
    target = tmp_path / "criteria.txt"

    def body(data: bytes) -> None:
        target.write_bytes(data)

        def read() -> None:
            text, _ = read_criteria_file(target)
            compile_program(text)

        check("criteria file", read, size=len(data))

    assert _run(examples, st.sampled_from(seeds).flatmap(binary_inputs), body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_revert_data(examples: int) -> None:
    """Revert data from a node: decoded to a ContractRevertError (never raised from decoding itself)."""
    pytest.importorskip("web3")
    from eth_utils.crypto import keccak

    from zkhealth.chain.client import decode_revert

    selector = bytes(keccak(text="NullifierUsed()"))[:4]
    strategy = st.one_of(st.binary(max_size=200).map(lambda tail: selector + tail), st.binary(max_size=200),
                         st.text(max_size=100), st.none())
    assert _run(examples, strategy, lambda data: check("revert data (RPC)", lambda: decode_revert(data))) > 0


# --------------------------------------------------------------------------- wallets and databases


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_wallet_file(examples: int, issuer_world: dict[str, Any], tmp_path: Path) -> None:
    from zkhealth.credentials.wallet import Wallet

    seed = issuer_world["wallet"]
    target = tmp_path / "wallet.zkw"

    def body(data: bytes) -> None:
        target.write_bytes(data)
        check("wallet file", lambda: Wallet.open(target, "pass"), size=len(data))

    assert _run(max(10, examples // 4), binary_inputs(seed), body) > 0


@st.composite
def _sql_edits(draw: st.DrawFn) -> list[tuple[str, tuple[Any, ...]]]:
    values = st.one_of(st.none(), st.integers(-(1 << 63), (1 << 63) - 1), st.binary(max_size=40), st.text(max_size=20),
                       st.floats())
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        table, column, key = draw(st.sampled_from([
            ("leaves", "value", "idx"), ("leaves", "next_value", "idx"), ("leaves", "idx", "idx"),
            ("nodes", "hash", "idx"), ("nodes", "level", "idx"), ("roots", "root", "seq"),
            ("roots", "leaf_count", "seq"), ("meta", "value", "rowid"),
        ]))
        edits.append((f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (draw(values), draw(st.integers(0, 6)))))
    if draw(st.booleans()):
        edits.append((draw(st.sampled_from(["DELETE FROM leaves WHERE idx = 2", "DELETE FROM nodes WHERE level = 1",
                                            "DELETE FROM meta WHERE key = 'checksum'", "DROP TABLE roots",
                                            "DELETE FROM roots"])), ()))
    return edits


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_revocation_database(examples: int, issuer_world: dict[str, Any], tmp_path: Path) -> None:
    """Damaged files (flipped bytes) and edited rows (any value, any type): opening, reading the root,
    proving non-membership, revoking and verifying either work and verify, or raise a library error."""
    from zkhealth.credentials.trees import RevocationTree, verify_non_membership

    seed = issuer_world["db"].read_bytes()
    target = tmp_path / "db.sqlite"

    def use() -> None:
        with RevocationTree(target) as tree:
            root = tree.root
            proof = tree.non_membership_proof(6)
            verify_non_membership(root, 6, proof, depth=tree.depth)
            tree.revoke(11)
            tree.verify(full=True)

    def body(case: tuple[str, Any]) -> None:
        kind, value = case
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        if kind == "bytes":
            target.write_bytes(value)
        else:
            shutil.copyfile(issuer_world["db"], target)
            connection = sqlite3.connect(target)
            try:
                for statement, args in value:
                    try:
                        connection.execute(statement, args)
                    except sqlite3.Error:
                        pass
                connection.commit()
            finally:
                connection.close()
        check("revocation database (SQLite)", use, size=len(seed))

    strategy = st.one_of(st.tuples(st.just("bytes"), mutated_bytes(seed)), st.tuples(st.just("rows"), _sql_edits()))
    assert _run(max(10, examples // 2), strategy, body) > 0


# --------------------------------------------------------------------------- criteria text


_WORDS = ["age", "diagnosis", "hba1c", "egfr", "systolic_bp", "gender", "sex", "birth_date", "research_consent",
          "and", "or", "not", "in", "between", "diagnosed_within", "male", "true", "years", "days", "months",
          "E11", "E11.*", "E11.65", "O00-O9A", "I10", "Z99", "2024-02-30", "2024-01-01", "0", "18", "7.25",
          "9" * 40, "1e5", "-3", "(", ")", "{", "}", "[", "]", ",", "=", "==", "!=", "<", "<=", ">", ">=", "*",
          "\u00e9", "\x00", "\n"]


_CLAUSES = st.sampled_from([
    "age >= 18", "age < 10", "age between 18 and 65", "age = 40", "age in {30, 31}", "hba1c >= 7", "hba1c < 7",
    "hba1c between 6.5 and 9", "egfr > 30", "egfr <= 20", "systolic_bp < 140", "gender = female", "sex = male",
    "gender in {male, other}", "gender != unknown", "research_consent = true", "birth_date < 2000-01-01",
    "diagnosis in E11.*", "diagnosis in E11.9", "not diagnosis in E11", "diagnosis in {I10, E11.65}",
    "diagnosis in O00-O9A", "diagnosed_within(E11, 5 years)", "diagnosed_within(I10, 30 days)",
])


@st.composite
def _criteria_formula(draw: st.DrawFn, depth: int) -> str:
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(_CLAUSES)
    kind = draw(st.sampled_from(["and", "or", "not", "paren"]))
    if kind == "not":
        return "not " + draw(_criteria_formula(depth - 1))
    if kind == "paren":
        return "(" + draw(_criteria_formula(depth - 1)) + ")"
    parts = [draw(_criteria_formula(depth - 1)) for _ in range(draw(st.integers(2, 3)))]
    return "(" + f" {kind} ".join(parts) + ")"


@st.composite
def criteria_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["tokens", "nested", "text", "formula", "formula"]))
    if kind == "formula":
        return draw(_criteria_formula(draw(st.integers(0, 6))))
    if kind == "tokens":
        return " ".join(draw(st.lists(st.sampled_from(_WORDS), max_size=40)))
    if kind == "nested":
        depth = draw(st.integers(0, 3000))
        opener = draw(st.sampled_from(["(", "not ", "not (", "(not "]))
        closer = ")" if "(" in opener else ""
        middle = draw(st.sampled_from(["age >= 18", "diagnosis in E11.*", "hba1c < 7 or egfr > 30", ""]))
        return opener * depth + middle + closer * depth
    return draw(st.text(max_size=300))


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_criteria(examples: int) -> None:
    from zkhealth.eligibility.analysis import analyze_program
    from zkhealth.eligibility.program import compile_program

    def read(text: str) -> None:
        analyze_program(compile_program(text))

    assert _run(examples, criteria_texts(), lambda text: check("criteria text", lambda: read(text), size=len(text))) > 0


# --------------------------------------------------------------------------- RPC answers


def _log(nullifier: int, block: int) -> dict[str, Any]:
    from zkhealth.chain.client import _ENROLLED_TOPIC

    return {
        "address": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
        "topics": ["0x" + _ENROLLED_TOPIC.hex(), "0x" + nullifier.to_bytes(32, "big").hex(),
                   "0x" + (b"\0" * 12 + b"\x11" * 20).hex()],
        "data": "0x" + (20514).to_bytes(32, "big").hex(),
        "blockNumber": hex(block), "blockHash": "0x" + "ab" * 32, "transactionHash": "0x" + "cd" * 32,
        "logIndex": "0x0", "transactionIndex": "0x0", "removed": False,
    }


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_rpc_answers(examples: int) -> None:
    """The enrollment listing over a node whose answers are mutated: a ChainError, never a web3 or Python one."""
    pytest.importorskip("web3")
    from web3 import Web3
    from web3.providers.base import BaseProvider

    from zkhealth.chain.client import enrollments

    class Node(BaseProvider):
        def __init__(self, answers: dict[str, Any]) -> None:
            super().__init__()
            self.answers = answers

        def make_request(self, method: Any, params: Any) -> Any:
            if method not in self.answers:
                return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}}
            return {"jsonrpc": "2.0", "id": 1, "result": self.answers[method]}

    seed = {"eth_blockNumber": "0x20", "eth_getLogs": [_log(7, 3), _log(9, 30)],
            "eth_getBlockByNumber": {"number": "0x10", "hash": "0x" + "ab" * 32}, "eth_chainId": "0x7a69"}

    def body(data: bytes) -> None:
        answers = _decoded(data)
        if answers is _UNDECODABLE:
            return
        if not isinstance(answers, dict):
            answers = {"eth_getLogs": answers}
        w3 = Web3(Node(answers))
        check("RPC answers (enrollment logs)",
              lambda: enrollments(w3, "0x5fbdb2315678afecb367f032d93f642f64180aa3", confirmations=2), size=len(data))

    assert _run(max(10, examples // 2), json_inputs(seed), body) > 0


def _fake_node(answers: dict[str, Any]) -> Any:
    """A Web3 whose node answers every method from ``answers`` (an RPC error for the others)."""
    from web3 import Web3
    from web3.providers.base import BaseProvider

    class Node(BaseProvider):
        def make_request(self, method: Any, params: Any) -> Any:
            if method not in answers:
                return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}}
            value = answers[method]
            return {"jsonrpc": "2.0", "id": 1, "result": value(params) if callable(value) else value}

    return Web3(Node())


@st.composite
def _registry_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Logs shaped like the TrialRegistry's events (right topic, words for the arguments), then mutated."""
    from eth_utils.crypto import keccak

    from zkhealth.chain.build import load_artifact

    events = [item for item in load_artifact("TrialRegistry")["abi"] if item.get("type") == "event"]
    logs = []
    for _ in range(draw(st.integers(0, 4))):
        event = draw(st.sampled_from(events))
        signature = f"{event['name']}({','.join(str(i['type']) for i in event['inputs'])})"
        word = st.one_of(st.integers(0, 3).map(lambda v: v.to_bytes(32, "big")), st.binary(min_size=32, max_size=32),
                         st.binary(max_size=40))
        topics = ["0x" + bytes(keccak(text=signature)).hex()]
        topics += ["0x" + draw(word).hex() for i in event["inputs"] if i.get("indexed")]
        data = b"".join(draw(word) for i in event["inputs"] if not i.get("indexed"))
        logs.append({
            "address": "0x5fbdb2315678afecb367f032d93f642f64180aa3", "topics": topics, "data": "0x" + data.hex(),
            "blockNumber": hex(draw(st.integers(0, 50))), "blockHash": "0x" + "ab" * 32,
            "transactionHash": "0x" + "cd" * 32, "logIndex": hex(draw(st.integers(0, 5))), "transactionIndex": "0x0",
            "removed": draw(st.booleans()),
        })
    return logs


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_registry_and_audit_rpc_answers(examples: int) -> None:
    """The trial registry client and the auditor over a node whose call results and logs are hostile: the
    library's errors (RpcAnswerError, ChainError, a decoded revert), never web3's or Python's."""
    pytest.importorskip("web3")
    from zkhealth.chain.audit import audit
    from zkhealth.chain.registry import TrialRegistryClient

    address = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
    call_results = st.one_of(st.binary(max_size=300).map(lambda b: "0x" + b.hex()), json_values())

    def body(case: tuple[list[dict[str, Any]], Any, str]) -> None:
        logs, call_result, what = case
        answers = {
            "eth_chainId": "0x7a69", "eth_blockNumber": "0x40", "eth_getLogs": logs, "eth_call": call_result,
            "eth_getBlockByNumber": {"number": "0x10", "hash": "0x" + "ab" * 32, "timestamp": "0x10"},
            "eth_getTransactionByHash": {"from": address, "hash": "0x" + "cd" * 32, "blockNumber": "0x1"},
        }
        w3 = _fake_node(answers)
        client = TrialRegistryClient(w3, address)
        targets = {
            "trust root": client.current_trust_root,
            "trial constants": lambda: client.trial_constants(1),
            "cohort": lambda: client.cohort(1),
            "audit": lambda: audit(w3, registry=address),
        }
        check(f"RPC answers (registry {what})" if what != "audit" else "RPC answers (audit)", targets[what])

    strategy = st.tuples(st.one_of(_registry_logs(), json_values()), call_results,
                         st.sampled_from(["trust root", "trial constants", "cohort", "audit"]))
    assert _run(examples, strategy, body) > 0


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_vote_and_proposal_files(examples: int) -> None:
    from zkhealth.chain.governance import Proposal
    from zkhealth.eligibility.vote import VoteProof

    proof = json.loads((VECTORS / "proof.json").read_text())
    vote = {"format": "zkhealth.vote", "version": 1, "proof": proof, "public": ["1", "2", "1", "4"]}
    proposal = {"format": "zkhealth.proposal", "version": 1, "proposalId": "12", "description": "fund",
                "actions": [{"target": "0x5fbdb2315678afecb367f032d93f642f64180aa3", "value": "0",
                             "calldata": "0x1234"}]}
    assert _run(examples, json_inputs(vote),
                lambda data: check("vote file", lambda: VoteProof.from_json(data), size=len(data))) > 0
    assert _run(examples, json_inputs(proposal),
                lambda data: check("proposal file", lambda: Proposal.from_json(data), size=len(data))) > 0


# --------------------------------------------------------------------------- public API, wrong types


def _api_calls() -> dict[str, tuple[Any, int]]:
    """Public functions and constructors, with how many positional arguments each takes."""
    from importlib import import_module

    import zkhealth

    def module(name: str) -> Any:
        return import_module(f"zkhealth.{name}")

    field, credential, dates, encoding = (module(n) for n in ("field", "credentials.credential", "credentials.dates",
                                                             "credentials.encoding"))
    fhir, icd10, trees, vc = (module(f"credentials.{n}") for n in ("fhir", "icd10", "trees", "vc"))
    criteria, program, scope = (module(f"eligibility.{n}") for n in ("criteria", "program", "scope"))
    snarkjs_json, verifier, eddsa_poseidon = (module(n) for n in ("formats.snarkjs_json", "groth16.verifier",
                                                                  "signature.eddsa_poseidon"))

    return {
        "field.parse_field_element": (field.parse_field_element, 1),
        "field.check_field_element": (field.check_field_element, 1),
        "field.parse_canonical_int": (field.parse_canonical_int, 1),
        "dates.parse_date": (dates.parse_date, 1),
        "dates.date_to_epoch_day": (dates.date_to_epoch_day, 1),
        "dates.epoch_day_to_date": (dates.epoch_day_to_date, 1),
        "encoding.parse_decimal": (encoding.parse_decimal, 1),
        "icd10.encode_code": (icd10.encode_code, 1),
        "icd10.normalize_code": (icd10.normalize_code, 1),
        "icd10.decode_code": (icd10.decode_code, 1),
        "icd10.code_range": (icd10.code_range, 1),
        "credential.subject_commitment": (credential.subject_commitment, 1),
        "credential.Diagnosis": (credential.Diagnosis, 2),
        "credential.LabValue": (credential.LabValue, 2),
        "credential.HealthClaims": (credential.HealthClaims, 1),
        "credential.HealthClaims.from_json": (credential.HealthClaims.from_json, 1),
        "fhir.claims_from_bundle": (fhir.claims_from_bundle, 1),
        "vc.parse_credential_id": (vc.parse_credential_id, 1),
        "vc.parse_document": (vc.parse_document, 1),
        "vc.decode_credential": (vc.decode_credential, 1),
        "trees.MerkleProof.from_dict": (trees.MerkleProof.from_dict, 1),
        "trees.validate_issuer_key": (trees.validate_issuer_key, 1),
        "trees.issuer_leaf": (trees.issuer_leaf, 1),
        "trees.IssuerRegistry": (trees.IssuerRegistry, 1),
        "trees.IssuerRegistry.from_json": (trees.IssuerRegistry.from_json, 1),
        "trees.QuaternaryMerkleTree": (trees.QuaternaryMerkleTree, 1),
        "trees.BinaryMerkleTree": (trees.BinaryMerkleTree, 1),
        "trees.empty_subtree_roots": (trees.empty_subtree_roots, 1),
        "trees.revocation_leaf": (trees.revocation_leaf, 2),
        "criteria.parse_criteria": (criteria.parse_criteria, 1),
        "program.compile_program": (program.compile_program, 1),
        "scope.parse_address": (scope.parse_address, 1),
        "scope.trial_id_bytes": (scope.trial_id_bytes, 1),
        "scope.trial_scope": (scope.trial_scope, 3),
        "snarkjs_json.parse_g1": (lambda value: snarkjs_json.parse_g1(value, "x"), 1),
        "snarkjs_json.parse_g2": (lambda value: snarkjs_json.parse_g2(value, "x"), 1),
        "snarkjs_json.parse_public_signal": (snarkjs_json.parse_public_signal, 2),
        "snarkjs_json.proof_from_dict": (snarkjs_json.proof_from_dict, 1),
        "verifier.verify": (verifier.verify, 3),
        "eddsa_poseidon.PublicKey.from_bytes": (eddsa_poseidon.PublicKey.from_bytes, 1),
        "eddsa_poseidon.Signature.from_bytes": (eddsa_poseidon.Signature.from_bytes, 1),
        "eddsa_poseidon.PrivateKey": (eddsa_poseidon.PrivateKey, 1),
        "zkhealth.Trial": (lambda value: zkhealth.Trial(value, trial_id=value), 1),
        **_object_api_calls(),
    }


_OBJECTS: dict[str, Any] = {}


def _objects() -> dict[str, Any]:
    """One of each front-door object, made once (cheap ones: an in-memory tree, a floor-KDF wallet)."""
    if not _OBJECTS:
        import tempfile

        import zkhealth
        from zkhealth.credentials.wallet import KDF_FLOOR

        directory = Path(tempfile.mkdtemp(prefix="zkhealth-api-fuzz-"))
        issuer = zkhealth.Issuer.generate()
        _OBJECTS.update(
            issuer=issuer,
            registry=zkhealth.Registry(),
            tree=zkhealth.RevocationTree(depth=2),
            wallet=zkhealth.Wallet.create(directory / "w.zkw", "pass", kdf=KDF_FLOOR),
            trial=zkhealth.Trial("age >= 18", trial_id="NCT05000001", scope=3),
            directory=directory,
        )
    return _OBJECTS


def _sandboxed(value: Any) -> Any:
    """A text used as a path stays a plain name in the current (temporary) directory: no separator, no
    absolute path, nothing outside the test's sandbox."""
    if isinstance(value, str):
        return "sandbox-" + value.replace("/", "_").replace("\\", "_").replace("\0", "_")
    return value


def _object_api_calls() -> dict[str, tuple[Any, int]]:
    import zkhealth
    from zkhealth.credentials.credential import Credential
    from zkhealth.credentials.wallet import KdfParams
    from zkhealth.eligibility.evaluate import evaluate_program
    from zkhealth.eligibility.proof import EligibilityProof
    from zkhealth.eligibility.spec import TrialSpec

    o = _objects

    def issue(claims: Any, commitment: Any, day: Any) -> Any:
        return o()["issuer"].issue(claims, subject_commitment=commitment, issued_at=day)

    return {
        "Issuer()": (zkhealth.Issuer, 2),
        "Issuer.generate(revocation=)": (lambda value: zkhealth.Issuer.generate(revocation=value), 1),
        "Issuer.issue": (issue, 3),
        "Issuer.issue_from_fhir": (lambda b, c: o()["issuer"].issue_from_fhir(b, subject_commitment=c), 2),
        "Issuer.revoke": (lambda value: o()["issuer"].revoke(value), 1),
        "Registry.add": (lambda value: o()["registry"].add(value), 1),
        "Registry.remove": (lambda value: o()["registry"].remove(value), 1),
        "Registry.entry": (lambda value: o()["registry"].entry(value), 1),
        "Registry.membership": (lambda value: o()["registry"].membership(value), 1),
        "Registry.set_revocation_root": (lambda key, root: o()["registry"].set_revocation_root(key, root), 2),
        "Registry.load": (lambda path: zkhealth.Registry.load(_sandboxed(path)), 1),
        "RevocationTree()": (lambda path: zkhealth.RevocationTree(_sandboxed(path)), 1),
        "RevocationTree(depth=)": (lambda value: zkhealth.RevocationTree(depth=value), 1),
        "RevocationTree.revoke": (lambda value: o()["tree"].revoke(value), 1),
        "RevocationTree.revoke_many": (lambda value: o()["tree"].revoke_many(value), 1),
        "RevocationTree.is_revoked": (lambda value: o()["tree"].is_revoked(value), 1),
        "RevocationTree.non_membership_proof": (lambda value: o()["tree"].non_membership_proof(value), 1),
        "RevocationTree.merkle_proof": (lambda value: o()["tree"].merkle_proof(value), 1),
        "RevocationTree.roots": (lambda value: o()["tree"].roots(value), 1),
        "Wallet.create": (lambda path, passphrase: zkhealth.Wallet.create(_sandboxed(path), passphrase), 2),
        "Wallet.open": (lambda path, passphrase: zkhealth.Wallet.open(_sandboxed(path), passphrase), 2),
        "Wallet.add_credential": (lambda value: o()["wallet"].add_credential(value), 1),
        "Wallet.remove_credential": (lambda value: o()["wallet"].remove_credential(value), 1),
        "Wallet.find_credential": (lambda value: o()["wallet"].find_credential(value), 1),
        "KdfParams": (KdfParams, 2),
        "Credential.from_field_elements": (Credential.from_field_elements, 1),
        "Trial(roots=)": (lambda value: zkhealth.Trial("age >= 18", trial_id="T", roots=value), 1),
        "Trial(grace=)": (lambda value: zkhealth.Trial("age >= 18", trial_id="T", root_grace_seconds=value), 1),
        "Trial(window=)": (lambda value: zkhealth.Trial("age >= 18", trial_id="T", accepted_window_days=value), 1),
        "Trial.scope": (lambda chain, address: o()["trial"].scope(chain, address), 2),
        "Trial.verify": (lambda proof, day: o()["trial"].verify(proof, today=day), 2),
        "Trial.evaluate": (lambda credential, day: o()["trial"].evaluate(credential, day), 2),
        "zkhealth.verify": (zkhealth.verify, 2),
        "zkhealth.prove": (lambda wallet, day: zkhealth.prove(o()["trial"], wallet, today=day, recipient=1,
                                                               issuers=o()["registry"], revocations=o()["tree"]), 2),
        "evaluate_program": (evaluate_program, 3),
        "TrialSpec.load": (lambda path: TrialSpec.load(_sandboxed(path)), 1),
        "EligibilityProof.from_json": (EligibilityProof.from_json, 1),
        "EligibilityProof.from_dict": (EligibilityProof.from_dict, 1),
        "EligibilityProof.load": (lambda path: EligibilityProof.load(_sandboxed(path)), 1),
    }


@pytest.mark.parametrize("examples", BUDGETS)
def test_fuzz_public_api_with_wrong_types(examples: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Public functions called with values of the wrong type or range raise the library's errors (which
    derive from TypeError or ValueError too), never a bare TypeError, AttributeError or KeyError. Texts
    given as paths stay inside a temporary directory."""
    monkeypatch.chdir(tmp_path)
    calls = _api_calls()

    def body(case: tuple[str, list[Any]]) -> None:
        name, args = case
        function, arity = calls[name]
        check("public API (wrong types)", lambda: function(*args[:arity]))

    strategy = st.tuples(st.sampled_from(sorted(calls)), st.lists(hostile_values(), min_size=3, max_size=3))
    assert _run(examples * 4, strategy, body) > 0


def test_fuzz_counts_are_recorded() -> None:
    """The harness counts every input (the report lists each reader with its count)."""
    from fuzzing import COUNTS
    from fuzzing import check as run_check

    before = COUNTS["harness self-check"]
    run_check("harness self-check", lambda: None)
    assert COUNTS["harness self-check"] == before + 1
    with pytest.raises(AssertionError):
        run_check("harness self-check", lambda: {}["missing"])
