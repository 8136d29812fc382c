"""Universal trials end to end (RecordTrial with circuit="universal"): two trials, one key set, one setup.

A universal circuit of a tiny shape (same code as the shipped one, fewer slots) keeps the setup short; the
shipped shape's pinned keys are tested in test_universal_keys.py. Prove tier, slow: one setup for the module.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from records import TODAY, RecordWorld, make_record_world, t2d_record

from zkhealth.credentials.trust import trust_root
from zkhealth.eligibility.record_trial import RecordProof, RecordTrial, prove_record_eligibility
from zkhealth.eligibility.universal_program import UniversalShape
from zkhealth.errors import (
    DuplicateProofError,
    InvalidProofError,
    MalformedProofError,
    NotEligibleError,
    UniversalLimitError,
    VerifyingKeyMismatchError,
    WrongProgramError,
    WrongScopeError,
)
from zkhealth.formats.snarkjs_json import dumps_snarkjs, verifying_key_to_dict

pytestmark = [pytest.mark.prove, pytest.mark.slow]
TINY = UniversalShape(leaf_slots=3, atom_slots=3, header_slots=1, gate_slots=2)
DIABETES = "diagnosis in E11.* and not diagnosis in E10.*"
LABS = "age >= 18 and latest(hba1c) >= 7"


@pytest.fixture(scope="module")
def world() -> RecordWorld:
    world = make_record_world()
    world.issue("t2d", t2d_record())
    return world


def _trial(world: RecordWorld, criteria: str, trial_id: str, scope: int) -> RecordTrial:
    return RecordTrial(criteria, trial_id=trial_id, trust_roots={trust_root(world.trusted.root)}, scope=scope,
                       circuit="universal", shape=TINY)


@pytest.fixture(scope="module")
def trials(world: RecordWorld) -> tuple[RecordTrial, RecordTrial]:
    first = _trial(world, DIABETES, "NCT00000001", 101)
    pk, _ = first.setup()  # one setup for the circuit, whatever the program
    second = _trial(world, LABS, "NCT00000002", 102)
    second.use_keys(pk)
    return first, second


@pytest.fixture(scope="module")
def proofs(world: RecordWorld, trials: tuple[RecordTrial, RecordTrial]) -> tuple[RecordProof, RecordProof]:
    holder = world.holders["t2d"]
    return tuple(  # type: ignore[return-value]
        prove_record_eligibility(trial, holder.issued, holder.holder_secret, today=TODAY, recipient=0xBEEF,
                                 trusted=world.trusted, revocation=world.revocation)
        for trial in trials)


def test_one_key_set_proves_two_trials(trials: tuple[RecordTrial, RecordTrial],
                                       proofs: tuple[RecordProof, RecordProof]) -> None:
    first, second = trials
    assert first.verifying_key.sha256() == second.verifying_key.sha256()
    results = [trial.verify(proof.to_json(), today=TODAY, expected_recipient=0xBEEF)
               for trial, proof in zip(trials, proofs, strict=True)]
    assert results[0].nullifier != results[1].nullifier  # two scopes, two unlinkable nullifiers
    for trial, proof in zip(trials, proofs, strict=True):
        assert proof.circuit == "universal" and proof.signals["program_hash"] == trial.program_hash
        assert RecordProof.from_json(proof.to_json()) == proof


def test_verify_each_batches_and_names_each_outcome(trials: tuple[RecordTrial, RecordTrial],
                                                   proofs: tuple[RecordProof, RecordProof]) -> None:
    first, _ = trials
    good = proofs[0]
    # The other trial's curve points under this proof's signals and pins: only the pairing check can refuse it,
    # so the batch fails and each proof is checked on its own to name it.
    forged = RecordProof(good.trial_id, good.program_sha256, good.vk_sha256, proofs[1].proof, good.public,
                         "universal")
    outcomes = first.verify_each([good, forged, good, proofs[1]], today=TODAY)
    assert outcomes[0].nullifier == first.verify(good, today=TODAY).nullifier  # type: ignore[union-attr]
    assert isinstance(outcomes[1], InvalidProofError)
    assert isinstance(outcomes[2], DuplicateProofError) and "the same proof as proof 0" in str(outcomes[2])
    assert isinstance(outcomes[3], WrongScopeError)  # the other trial's proof
    assert first.verify_each([], today=TODAY) == []


def test_a_proof_for_one_trial_is_refused_by_the_other(trials: tuple[RecordTrial, RecordTrial],
                                                      proofs: tuple[RecordProof, RecordProof]) -> None:
    first, second = trials
    with pytest.raises(WrongScopeError):
        second.verify(proofs[0], today=TODAY)  # another trial id
    # Same trial id and scope, another program: the program hash (not only the text's sha256) refuses it.
    impostor = RecordTrial(LABS, trial_id="NCT00000001", trust_roots=first.trust_roots, scope=101,
                           circuit="universal", shape=TINY)
    impostor.use_keys(first.keys[0])
    with pytest.raises(WrongProgramError):
        impostor.verify(proofs[0], today=TODAY)
    relabelled = RecordProof(proofs[0].trial_id, impostor.program.sha256(), proofs[0].vk_sha256, proofs[0].proof,
                             proofs[0].public, "universal")
    with pytest.raises(WrongProgramError):
        impostor.verify(relabelled, today=TODAY)
    # The program hash signal swapped for the other trial's: the pairing check fails.
    public = list(proofs[0].public)
    public[1] = impostor.program_hash or 0
    swapped = RecordProof(proofs[0].trial_id, impostor.program.sha256(), proofs[0].vk_sha256, proofs[0].proof,
                          tuple(public), "universal")
    with pytest.raises(InvalidProofError):
        impostor.verify(swapped, today=TODAY)


def test_dedicated_and_universal_proofs_are_not_interchangeable(trials: tuple[RecordTrial, RecordTrial],
                                                                proofs: tuple[RecordProof, RecordProof]) -> None:
    first, _ = trials
    data = json.loads(proofs[0].to_json())
    data["circuit"] = "dedicated"
    with pytest.raises(MalformedProofError):  # six signals are not a dedicated proof
        RecordProof.from_json(json.dumps(data))
    dedicated = RecordTrial(DIABETES, trial_id="NCT00000001", trust_roots=first.trust_roots, scope=101)
    dedicated._vk = first.verifying_key  # whatever the key, the circuit kind is checked first
    with pytest.raises(VerifyingKeyMismatchError):
        dedicated.verify(proofs[0], today=TODAY)


def test_not_eligible_and_past_the_limits(world: RecordWorld, trials: tuple[RecordTrial, RecordTrial]) -> None:
    holder = world.holders["t2d"]
    strict = RecordTrial("latest(hba1c) >= 9", trial_id="NCT00000003", trust_roots=trials[0].trust_roots,
                         scope=103, circuit="universal", shape=TINY)
    strict.use_keys(trials[0].keys[0])
    with pytest.raises(NotEligibleError) as caught:
        prove_record_eligibility(strict, holder.issued, holder.holder_secret, today=TODAY, recipient=1,
                                 trusted=world.trusted, revocation=world.revocation)
    assert caught.value.clause == "latest(hba1c) >= 9"
    with pytest.raises(UniversalLimitError):
        RecordTrial("not diagnosis in E10.* and not diagnosis in I21.* and not diagnosis in I63.* and "
                    "not diagnosis in K85.*", trial_id="NCT00000004", circuit="universal", shape=TINY)


@pytest.mark.external
def test_snarkjs_verifies_a_universal_proof(trials: tuple[RecordTrial, RecordTrial],
                                            proofs: tuple[RecordProof, RecordProof], snarkjs_cli: Path,
                                            tmp_path: Path) -> None:
    vk = trials[0].verifying_key
    (tmp_path / "vk.json").write_text(dumps_snarkjs(verifying_key_to_dict(vk)))
    for index, proof in enumerate(proofs):
        data = json.loads(proof.to_json())
        (tmp_path / f"proof{index}.json").write_text(json.dumps(data["proof"]))
        (tmp_path / f"public{index}.json").write_text(json.dumps(data["public"]))

    def verify(proof: str, public: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(snarkjs_cli), "groth16", "verify", str(tmp_path / "vk.json"),
                               str(tmp_path / public), str(tmp_path / proof)],
                              capture_output=True, text=True, timeout=300)

    for index in range(2):
        result = verify(f"proof{index}.json", f"public{index}.json")
        assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr
    # The first proof with the second trial's program hash: refused.
    public = json.loads((tmp_path / "public0.json").read_text())
    public[1] = json.loads((tmp_path / "public1.json").read_text())[1]
    (tmp_path / "mixed.json").write_text(json.dumps(public))
    assert verify("proof0.json", "mixed.json").returncode != 0


def test_a_ceremony_key_is_adopted_only_for_its_circuit(trials: tuple[RecordTrial, RecordTrial],
                                                       tmp_path: Path) -> None:
    """import_ceremony_key (zkhealth universal-keys import): the key proves a sample witness of the circuit
    before a key set is written with the ceremony's provenance; a key of another circuit is refused."""
    from zkhealth.eligibility.universal_keys import UniversalKeyManifest, import_ceremony_key

    pk = trials[0].keys[0]
    manifest = import_ceremony_key(pk, tmp_path / "set", ceremony="transcript 1234", shape=TINY)
    assert manifest.provenance == "ceremony" and manifest.ceremony == "transcript 1234" and manifest.shape == TINY
    assert UniversalKeyManifest.from_json((tmp_path / "set" / "manifest.json").read_bytes()) == manifest
    other = UniversalShape(leaf_slots=3, atom_slots=3, header_slots=1, gate_slots=3)
    with pytest.raises(VerifyingKeyMismatchError):
        import_ceremony_key(pk, tmp_path / "other", ceremony="transcript 1234", shape=other)
