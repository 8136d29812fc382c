"""Read-only trial views (zkhealth.chain.views), dry-run enrollment checks and the audit trail of per-trial
contracts, on the dashboard's test chain (tests/dashboard_world.py: a registry with two trials, two per-trial
CohortEnrollment contracts, trapdoor-key proofs)."""

from __future__ import annotations

import dataclasses
import json

import dashboard_world as dw
import pytest

from zkhealth.chain import devchain, enrollment
from zkhealth.chain.audit import AuditEvent, _Replay, audit
from zkhealth.chain.registry import ConsentStatus
from zkhealth.chain.views import (
    CohortTrialReader,
    RegistryTrialReader,
    RootState,
    TrialState,
    cohort_contract_kind,
    external_id_label,
)
from zkhealth.errors import AuditError, ChainError, ContractRevertError, NullifierAlreadyUsedError

pytestmark = pytest.mark.evm


@pytest.fixture(scope="module")
def world() -> dw.World:
    return dw.build_world()


def count_events(contract: object, name: str, **filters: int) -> int:
    events = getattr(contract, "events")  # noqa: B009 - web3's contract namespace
    return len(getattr(events, name)().get_logs(argument_filters=filters or None, from_block=0))


def test_registry_trial_overview(world: dw.World) -> None:
    one, two = RegistryTrialReader.all(world.registry)
    view = one.overview()
    assert (view.trial_id, view.label, view.kind) == (1, "NCT05000001", "TrialRegistry")
    assert view.state is TrialState.OPEN and view.capacity == 20
    assert view.enrolled == dw.REGISTRY_ENROLLMENTS == count_events(world.registry.contract, "Enrolled", trialId=1)
    assert view.active == dw.REGISTRY_ENROLLMENTS - 2  # one withdrawn, one expired
    assert view.seats_taken == dw.REGISTRY_ENROLLMENTS - 1  # the expired consent is not marked yet
    assert view.scope == world.registry.scope(1) and view.program_hash == dw.PROGRAM
    assert view.consent_hash == dw.CONSENT and view.owner == world.recruiter
    assert two.overview().label == "<b>x</b>" and two.overview().enrolled == 0


def test_registry_trial_details(world: dw.World) -> None:
    reader = RegistryTrialReader(world.registry, 1)
    points = reader.enrollments()
    assert [p.nullifier for p in points] == world.nullifiers
    assert all(a.timestamp < b.timestamp for a, b in zip(points, points[1:], strict=False))
    assert reader.consents() == {ConsentStatus.ACTIVE: 6, ConsentStatus.WITHDRAWN: 1, ConsentStatus.EXPIRED: 1}
    roots = reader.roots()
    assert [(r.roots, r.state) for r in roots] == [((dw.ROOT_B,), RootState.CURRENT), ((dw.ROOT_A,), RootState.GRACE)]
    assert roots[1].accepted_until == roots[1].superseded_at + 86_400  # type: ignore[operator]
    pool = reader.pool()
    assert pool is not None and pool.symbol == "TRW" and pool.decimals == 18
    paid = dw.REGISTRY_ENROLLMENTS * dw.TOKEN + 5 * dw.TOKEN
    assert (pool.balance, pool.paid) == (200 * dw.TOKEN - paid, paid)
    assert pool.milestone_rewards == (5 * dw.TOKEN, 20 * dw.TOKEN)
    assert RegistryTrialReader(world.registry, 2).pool() is None
    with pytest.raises(ChainError):
        RegistryTrialReader(world.registry, 0)
    with pytest.raises(ChainError):
        RegistryTrialReader(world.registry, 9).overview()


def test_cohort_contracts(world: dw.World) -> None:
    assert cohort_contract_kind(world.w3, world.v1_address) == "CohortEnrollment"
    assert cohort_contract_kind(world.w3, world.v2_address) == "CohortEnrollment"
    with pytest.raises(ChainError):
        cohort_contract_kind(world.w3, world.registry.address)
    with pytest.raises(ChainError):
        cohort_contract_kind(world.w3, world.accounts[3])  # no code
    v1 = CohortTrialReader(world.w3, world.v1_address)
    view = v1.overview()
    assert (view.kind, view.label, view.enrolled, view.active, view.capacity) == (
        "CohortEnrollment", "NCT09000009", dw.V1_ENROLLMENTS, dw.V1_ENROLLMENTS, 10)
    assert [p.nullifier for p in v1.enrollments()] == world.v1_nullifiers
    roots = v1.roots()
    assert [(r.roots, r.state) for r in roots] == [((dw.COHORT_ROOT,), RootState.CURRENT)]
    v2 = CohortTrialReader(world.w3, world.v2_address)
    assert v2.overview().enrolled == dw.V2_ENROLLMENTS == count_events(world.v2_contract, "Enrolled")
    assert v2.consents() == {ConsentStatus.ACTIVE: 2, ConsentStatus.WITHDRAWN: 1, ConsentStatus.EXPIRED: 0}
    withdrawn = [m for m in v2.members() if m.status is ConsentStatus.WITHDRAWN]
    assert [m.nullifier for m in withdrawn] == world.v2_nullifiers[:1] and withdrawn[0].ended_reason
    assert [r.state for r in v2.roots()] == [RootState.CURRENT, RootState.GRACE]
    assert v2.pool() is None


def test_freshness_and_state_follow_the_chain_clock() -> None:
    world = dw.build_world()
    devchain.advance_time(world.w3, 2 * 86_400)  # past ROOT_A's one-day grace period
    reader = RegistryTrialReader(world.registry, 1)
    assert [r.state for r in reader.roots()] == [RootState.CURRENT, RootState.STALE]
    assert [r.state for r in CohortTrialReader(world.w3, world.v2_address).roots()] == [
        RootState.CURRENT, RootState.STALE]
    devchain.advance_time(world.w3, 100 * 86_400)  # past the window
    assert reader.overview().state is TrialState.ENDED
    world.registry.close_trial(2, sender=world.recruiter)
    assert RegistryTrialReader(world.registry, 2).overview().state is TrialState.CLOSED


def test_external_id_label() -> None:
    assert external_id_label(b"NCT05000001".ljust(32, b"\0")) == "NCT05000001"
    raw = bytes(range(32))
    assert external_id_label(raw) == "0x" + raw.hex()
    assert external_id_label(bytes(32)) == "0x" + "00" * 32


def test_check_enroll_dry_runs(world: dw.World) -> None:
    """The dry runs raise what enroll raises, and send nothing."""
    before = int(world.w3.eth.block_number)
    fresh = world.v1_proof(0xD1, world.accounts[9])
    enrollment.check_enroll(world.w3, world.v1_contract, fresh.proof, list(fresh.public))
    used = world.v1_proof(world.v1_nullifiers[0], world.accounts[5])
    with pytest.raises(NullifierAlreadyUsedError):
        enrollment.check_enroll(world.w3, world.v1_contract, used.proof, list(used.public))
    tampered = list(fresh.public)
    tampered[0] += 1
    with pytest.raises(ContractRevertError) as info:
        enrollment.check_enroll(world.w3, world.v1_contract, fresh.proof, tampered)
    assert info.value.error_name == "InvalidProof"
    v2 = world.v2_proof(0xD2, world.accounts[9])
    enrollment.check_enroll(world.w3, world.v2_contract, v2.proof, list(v2.public))
    stale = world.v2_proof(0xD3, world.accounts[9], root=12345)
    with pytest.raises(ContractRevertError) as info:
        enrollment.check_enroll(world.w3, world.v2_contract, stale.proof, list(stale.public))
    assert info.value.error_name == "UnknownRoot"
    signals = [0xD4, dw.PROGRAM, world.registry.scope(1), world.today(), dw.ROOT_B, int(world.accounts[9], 16)]
    proof = world.registry_key.prove(signals).to_proof()
    world.registry.check_enroll(1, proof, signals)
    with pytest.raises(ContractRevertError) as info:
        world.registry.check_enroll(1, proof, [signals[0] + 1, *signals[1:]])
    assert info.value.error_name == "InvalidProof"
    assert int(world.w3.eth.block_number) == before


def test_audit_reads_per_trial_contracts(world: dw.World) -> None:
    report = audit(world.w3, enrollments=[world.v1_address, world.v2_address])
    assert report.ok
    enrolled = [e for e in report.events if e.event == "Enrolled"]
    assert len(enrolled) == dw.V1_ENROLLMENTS + dw.V2_ENROLLMENTS
    assert {e.address for e in enrolled} == {world.v1_address, world.v2_address}
    assert {e.contract for e in enrolled} == {"CohortEnrollment"}
    both = audit(world.w3, registry=world.registry.address, enrollments=[world.v1_address])
    assert any(e.contract == "TrialRegistry" for e in both.events)
    assert any(e.contract == "CohortEnrollment" for e in both.events)
    only_trial_1 = audit(world.w3, registry=world.registry.address, enrollments=[world.v1_address], trial_id=1)
    assert not any(e.contract == "CohortEnrollment" for e in only_trial_1.events)
    body = json.loads(both.to_json())
    assert all("address" in e for e in body["events"])
    with pytest.raises(AuditError):
        audit(world.w3)


def test_audit_csv_cells_never_read_as_formulas(world: dw.World) -> None:
    report = audit(world.w3, registry=world.registry.address)
    granted = [e for e in report.events if e.event == "AccessGranted"]
    assert granted and granted[0].args["uri"] == dw.HOSTILE_URI
    hostile = dataclasses.replace(granted[0], args={**granted[0].args, "uri": "=HYPERLINK(\"x\")"})
    text = type(report)((hostile,), report.findings, report.contracts).to_csv()
    import csv
    import io

    for row in csv.reader(io.StringIO(text)):
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row), row


def test_audit_replays_per_trial_capacity_and_window() -> None:
    def event(block: int, name: str, at: int, **args: int) -> AuditEvent:
        return AuditEvent(block, at, f"0x{block:064x}", 0, "0x" + "1" * 40, "CohortEnrollment", name, args, "0xC")

    state = _Replay(None, lambda trial, nullifier: 0)
    for item in [event(1, "WindowUpdated", 100, start=100, end=200), event(1, "CapacityUpdated", 100, capacity=1),
                 event(2, "Enrolled", 150, nullifier=1, day=0), event(3, "Withdrawn", 160, nullifier=1, day=0),
                 event(4, "Enrolled", 170, nullifier=2, day=0)]:
        state.apply(item)
    assert state.findings == []
    state.apply(event(5, "Enrolled", 180, nullifier=3, day=0))
    state.apply(event(6, "Withdrawn", 185, nullifier=3, day=0))
    state.apply(event(6, "Withdrawn", 186, nullifier=2, day=0))
    state.apply(event(7, "Enrolled", 250, nullifier=4, day=0))
    assert [f.rule for f in state.findings] == ["capacity", "window"]
