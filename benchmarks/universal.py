"""Universal eligibility circuit benchmark: size, the registered trials that fit, setup, prove, verify, gas.

    python benchmarks/universal.py                 # setup once, 3 proofs, 15 verifications, gas on py-evm
    python benchmarks/universal.py --no-setup      # use the installed (pinned) proving key instead of a setup
    python benchmarks/universal.py --proofs 5 --criteria circuits/trials/dapa_ckd.txt

Prints: the circuit's constraints per part (against the 2^16 goal and the domain it needs); the shape (set-atom,
leaf, header-atom and gate slots) and how many of the twelve registered trials in circuits/trials/ fit, with
the fraction of their criteria; the dedicated circuit of the same criteria for comparison; then setup time,
prove time (witness solving included) as median (min-max) with the load average before and after, verify time,
and the gas of createTrial and enroll measured on py-evm with a real proof (a TrialRegistry embedding the
universal key). Targets (issue 15): <= 65,536 rows, prove <= 8 s median on 2 cores with gmpy2, verify <= 15 ms,
enroll <= 260,000 gas. Nothing is asserted.

It also prints a floor: the fewest constraints that any circuit over schema version 2 needs to fit enough of the
registered trials for 90% of their machine-checkable criteria, counting only the Poseidon hashes that open the
record's entries (with every path node shared between entries that could share it), the trust checks the issue
keeps (signature, issuer, revocation, person registry, holder, nullifier, validity) and the permutations that hash
the program, each at the cost measured in the compiled circuit, and what that leaves per set atom for everything
else an atom needs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from records import make_record_world, t2d_record  # noqa: E402

from zkhealth import groth16  # noqa: E402
from zkhealth._bigint import backend_name  # noqa: E402
from zkhealth.credentials.credential import subject_commitment  # noqa: E402
from zkhealth.credentials.dates import epoch_day_to_date  # noqa: E402
from zkhealth.eligibility.check import check_criteria_file, tally  # noqa: E402
from zkhealth.eligibility.dedicated import compile_dedicated_circuit  # noqa: E402
from zkhealth.eligibility.program import compile_program  # noqa: E402
from zkhealth.eligibility.universal import PUBLIC_SIGNALS, compile_universal_circuit, universal_inputs  # noqa: E402
from zkhealth.eligibility.universal_keys import DevelopmentKeyWarning, load_proving_key  # noqa: E402
from zkhealth.eligibility.universal_program import UNIVERSAL_SHAPE, fit_program  # noqa: E402
from zkhealth.errors import UniversalLimitError  # noqa: E402
from zkhealth.hazmat.parallel import default_workers  # noqa: E402

TRIALS = ROOT / "circuits" / "trials"
DEFAULT_CRITERIA = TRIALS / "surpass2_t2d.txt"
DAY = 86_400


def timed(runs: int, fn: Callable[[], Any]) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def spread(times: list[float], scale: float, unit: str) -> str:
    return (f"{statistics.median(times) * scale:9.2f} {unit} median ({min(times) * scale:.2f}-"
            f"{max(times) * scale:.2f}, n={len(times)})")


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def trials_for(fraction: float) -> tuple[int, int, int, int]:
    """The fewest leaf slots that fit enough registered trials for ``fraction`` of the machine-checkable
    criteria (trials taken from the fewest leaves up), and the set atoms those trials need: (leaves, set atoms,
    criteria that then fit, machine-checkable criteria)."""
    counts = tally(TRIALS)
    needs = sorted((fitted.leaves_needed, fitted.usage()["set atoms"][0], check.counts["expressed"])
                   for check in (check_criteria_file(path) for path in TRIALS.glob("*.txt"))
                   for fitted in (fit_program(check.program),))
    fitted_criteria, atoms = 0, 0
    for leaves, set_atoms, expressed in needs:
        fitted_criteria += expressed
        atoms = max(atoms, set_atoms)
        if fitted_criteria >= fraction * counts.machine_checkable:
            return leaves, atoms, fitted_criteria, counts.machine_checkable
    return (needs[-1][0] if needs else 0), atoms, fitted_criteria, counts.machine_checkable


def shared_path_nodes(leaves: int, sets: int, depth: int, arity: int) -> int:
    """The most distinct inner nodes the paths of ``leaves`` entries can cross in ``sets`` trees of ``depth``
    levels: at each level, one node per entry or every node of that level, whichever is fewer. A circuit
    must be able to hash each of them for the records whose entries are spread out."""
    return sum(min(leaves, sets * arity ** (depth - level)) for level in range(1, depth + 1))


def key_range_test_cost() -> int:
    """Constraints of the cheapest test an atom can make: ``lo <= key <= hi`` on already range-checked
    ``KEY_BITS`` inputs (measured: the same circuit compiled with and without the two comparisons)."""
    from zkhealth.circuit.compiler import compile as compile_circuit
    from zkhealth.circuit.gadgets import range_check
    from zkhealth.circuit.gadgets.comparators import less_eq
    from zkhealth.circuit.gadgets.sorted_set import KEY_BITS

    def define(compare: bool) -> Callable[[Any], None]:
        def body(b: Any) -> None:
            key, lo, hi = (b.private_input(name) for name in ("key", "lo", "hi"))
            for signal in (key, lo, hi):
                range_check(b, signal, KEY_BITS)
            if compare:
                less_eq(b, lo, key, bits=KEY_BITS)
                less_eq(b, key, hi, bits=KEY_BITS)
        return body

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(compile_circuit(define(True), lint=False).r1cs.n_constraints
                   - compile_circuit(define(False), lint=False).r1cs.n_constraints)


def floor_report(report: dict[str, int], rows_limit: int = 1 << 16) -> None:
    """Print the schema-2 floor (module docstring) from the per-part counts of the compiled circuit."""
    from zkhealth.circuit.gadgets.sorted_set import SET_DEPTH
    from zkhealth.eligibility.universal import _ROOT_FIELDS

    leaves, atoms, fitted, machine = trials_for(0.9)
    root = "eligibility-universal"
    leaf_hash = report[f"{root}/criteria/leaf0/assert_set_member/set_leaf"]
    node_hash = report[f"{root}/criteria/leaf0/assert_set_member/assert_quaternary_merkle_inclusion/level0/poseidon"]
    program_hash = report[f"{root}/program/poseidon"]
    atom_today = report[f"{root}/criteria/atom0"] + report[f"{root}/program/word0"] + report[f"{root}/program/word1"]
    nodes = shared_path_nodes(leaves, len(_ROOT_FIELDS), SET_DEPTH, 4)
    trust_parts = {path.split("/")[1]: count for path, count in report.items()
                   if path.count("/") == 1 and path.split("/")[1] not in ("criteria", "program")}
    trust = sum(trust_parts.values())
    opening = leaves * leaf_hash + nodes * node_hash
    floor = opening + trust + program_hash
    budget = rows_limit - len(PUBLIC_SIGNALS) - 1
    left = budget - floor
    print(f"floor over schema 2 for >= 90% of the criteria ({fitted} of {machine} need every trial with up to "
          f"{leaves} leaves and {atoms} set atoms):")
    print(f"  opening {leaves} entries: {leaves} leaf hashes x {leaf_hash} + {nodes} distinct path nodes "
          f"({len(_ROOT_FIELDS)} sets, depth {SET_DEPTH}, arity 4, every node shared that can be) x {node_hash} "
          f"= {opening:,}")
    print(f"  trust checks the issue keeps ({', '.join(sorted(trust_parts))}): {trust:,}")
    print(f"  the permutations that hash the program's words (today's packing, nothing to decode them): "
          f"{program_hash:,}")
    print(f"  floor {floor:,} of the {budget:,} rows of a 2^16 domain; left for {atoms} set atoms, the header "
          f"atoms, the gates, the program's decoding and every range check and comparison: {left:,}, about "
          f"{left // max(atoms, 1):,} per set atom (a set atom costs {atom_today:,} today with its two words; "
          f"its cheapest test, a range of 94-bit keys on checked inputs, {key_range_test_cost()})")


def fit_report() -> None:
    counts = tally(TRIALS)
    fitted_expressed = 0
    rows = []
    for path in sorted(TRIALS.glob("*.txt")):
        check = check_criteria_file(path)
        try:
            universal = fit_program(check.program)
        except UniversalLimitError as error:
            rows.append(f"  {path.stem:<26} does not fit: {error.limit} {error.needed} > {error.available}")
            continue
        fitted_expressed += check.counts["expressed"]
        rows.append(f"  {path.stem:<26} {universal.describe_usage()}")
    print(f"shape: {UNIVERSAL_SHAPE.describe()}")
    print("\n".join(rows))
    print(f"criteria that fit: {fitted_expressed} of {counts.expressed} expressed "
          f"({100 * fitted_expressed / counts.expressed:.0f}%); {fitted_expressed} of {counts.machine_checkable} "
          f"machine-checkable ({100 * fitted_expressed / counts.machine_checkable:.0f}%: the rest is not "
          "expressible over schema version 2 at all)")


def gas(pk: Any, compiled: Any, inputs: Callable[[int, int, int], dict[str, Any]], program_hash: int,
        root: int) -> tuple[int, int]:
    """createTrial and enroll gas on py-evm (fast pairing: the same gas as the precompile) with a real proof;
    ``inputs(scope, today, recipient)`` gives the circuit's inputs."""
    from zkhealth.chain import client
    from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, TrialRegistryClient, TrialTerms

    w3 = client.connect(client.embedded_provider(fast_pairing=True))
    accounts = list(w3.eth.accounts)
    registry = TrialRegistryClient.deploy(w3, pk.vk, owner=accounts[0], creators=[accounts[1]])
    registry.publish_trust_root(root, sender=accounts[0])
    now = int(w3.eth.get_block("latest")["timestamp"])
    created = registry.create_trial(TrialTerms(program_hash=program_hash, consent_hash=b"\1" * 32,
                                               window=(now - 60, now + 30 * DAY), capacity=10, owner=accounts[1]),
                                    sender=accounts[1])
    (transaction,) = w3.eth.get_block(created.block_number)["transactions"]
    create_gas = int(w3.eth.get_transaction_receipt(cast(Any, transaction))["gasUsed"])
    witness = compiled.solve_witness(inputs(created.scope, now // DAY, int(accounts[2], 16)))
    proof = groth16.prove(pk, witness, r1cs=compiled.r1cs)
    receipt = registry.enroll(created.trial_id, proof, compiled.public_signals(witness),
                              ConsentTerms(b"\1" * 32, CONSENT_PURPOSES["trial-participation"], now // DAY + 30))
    return create_gas, int(receipt["gasUsed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--criteria", type=Path, default=DEFAULT_CRITERIA, help="a criteria file")
    parser.add_argument("--proofs", type=int, default=3)
    parser.add_argument("--verifies", type=int, default=15)
    parser.add_argument("--no-setup", action="store_true", help="use the installed pinned proving key")
    parser.add_argument("--no-gas", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", DevelopmentKeyWarning)

    print(f"backend: {backend_name()}, workers: {default_workers()}, cores: {os.cpu_count()}, {load()}")
    fit_report()
    compile_times, compiled = timed(1, compile_universal_circuit)
    n = compiled.r1cs.n_constraints
    rows = n + len(PUBLIC_SIGNALS) + 1
    domain = 1 << (rows - 1).bit_length()
    print(f"universal circuit: {n:,} constraints (+{len(PUBLIC_SIGNALS) + 1} public-input rows = {rows:,}; "
          f"{'within' if rows <= 1 << 16 else 'ABOVE'} the 2^16 goal; QAP domain 2^{domain.bit_length() - 1}); "
          f"wires {compiled.r1cs.n_wires:,}; compile {compile_times[0]:.1f} s")
    report = {row.path: row.after for row in compiled.report().rows}
    for path, count in report.items():
        if path.count("/") == 1:
            print(f"  {path.split('/', 1)[1]:<12} {count:>8,}")
    criteria = args.criteria.read_text(encoding="utf-8") if args.criteria.is_file() else str(args.criteria)
    check = check_criteria_file(args.criteria) if args.criteria.is_file() else None
    program = check.program if check is not None else compile_program(criteria)
    per_part = [(p.split("/")[-1], c) for p, c in report.items() if p.count("/") == 2 and "/criteria/" in p]
    leaves = [c for name, c in per_part if name.startswith("leaf")]
    atoms = [c for name, c in per_part if name.startswith("atom")]
    print(f"  per slot: leaf {leaves[0]:,}, set atom {atoms[0]:,} (+ its 2 program words)")
    floor_report(report)
    dedicated = compile_dedicated_circuit(program).r1cs.n_constraints
    universal = fit_program(program)
    print(f"trial {args.criteria.name if args.criteria.is_file() else 'criteria'}: {universal.describe_usage()}; "
          f"its dedicated circuit: {dedicated:,} constraints")

    world = make_record_world()
    today = int(time.time()) // DAY
    secret = 12345678901234567890
    day = epoch_day_to_date(today)
    issued = world.issuer.issue_record(t2d_record(), subject_commitment=subject_commitment(secret),
                                       issued_at=day - dt.timedelta(days=30), expires_at=day + dt.timedelta(days=365))
    fitted = fit_program(compile_program("diagnosis in E11.* and age >= 18 and latest(hba1c) >= 7 within 400 days"))

    def inputs(scope: int, day_: int, recipient: int) -> dict[str, Any]:
        return universal_inputs(fitted, issued.credential, issued.signature, holder_secret=secret, today=day_,
                                recipient=recipient, scope=scope,
                                issuer=world.trusted.membership(world.issuer.public_key),
                                revocation=world.revocation.non_membership_proof(issued.credential.credential_id))

    values = inputs(4242, today, 0xBEEF)
    if args.no_setup:
        start = time.perf_counter()
        pk = load_proving_key()
        print(f"proving key loaded in {time.perf_counter() - start:.1f} s (installed, pinned)")
    else:
        print(f"setup ({load()}) ...", flush=True)
        setup_times, (pk, _) = timed(1, lambda: groth16.setup(compiled.r1cs))
        print(f"setup:   {setup_times[0]:9.1f} s ({load()})")
    solve_times, witness = timed(1, lambda: compiled.solve_witness(values))
    print(f"witness: {solve_times[0]:9.2f} s")
    before = load()
    prove_times, proof = timed(args.proofs, lambda: groth16.prove(pk, compiled.solve_witness(values),
                                                                   r1cs=compiled.r1cs))
    print(f"prove:   {spread(prove_times, 1, 's')} (witness included; {before} before, {load()} after)")
    public = compiled.public_signals(witness)
    verify_times, _ = timed(args.verifies, lambda: groth16.verify(pk.vk, public, proof))
    print(f"verify:  {spread(verify_times, 1000, 'ms')}")
    if not args.no_gas:
        from zkhealth.credentials.trust import trust_root

        create_gas, enroll_gas = gas(pk, compiled, inputs, fitted.program_hash, trust_root(world.trusted.root))
        print(f"gas: createTrial {create_gas:,}; enroll {enroll_gas:,} (target <= 260,000)")


if __name__ == "__main__":
    main()
