"""Eligibility benchmark (schema version 2): the demo's diabetes trial extended to eight criteria over the sets.

    python benchmarks/eligibility.py                      # 3 proofs, 15 verifications
    python benchmarks/eligibility.py --proofs 5 --criteria "diagnosis in E11.* and age >= 18"

The default trial: type 2 diabetes, age 18-75, metformin for at least 3 months, the latest HbA1c 7.0-10.5 %
within 90 days, no type 1 diabetes, no insulin in the last 6 months, the latest eGFR >= 30, not pregnant.

Prints the constraint count per part and per atom (with the public-input rows, against the 2^15 domain), then:
circuit compilation, native eligibility check, witness solving, setup (once), proving (witness solving
included) and verification, each as median (min-max). Targets (issue 14): at most 32,768 rows, prove <= 4 s
median on 2 cores with gmpy2. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from records import TODAY, make_record_world, t2d_record  # noqa: E402

from zkhealth import groth16  # noqa: E402
from zkhealth._bigint import backend_name  # noqa: E402
from zkhealth.eligibility.dedicated import PUBLIC_SIGNALS, compile_dedicated_circuit, dedicated_inputs  # noqa: E402
from zkhealth.eligibility.evaluate import evaluate_program  # noqa: E402
from zkhealth.eligibility.program import MODE_NAMES, HeaderAtom, Policy, compile_program  # noqa: E402
from zkhealth.hazmat.parallel import default_workers  # noqa: E402

DIABETES_8 = (
    "diagnosis in E11.* and age between 18 and 75 and medication in atc:A10BA02 for at least 3 months "
    "and latest(hba1c) between 7.0 and 10.5 within 90 days and not diagnosis in E10.* "
    "and not medication in atc:A10A within 6 months and egfr >= 30 and not pregnancy_status = pregnant"
)
DOMAIN = 1 << 15
#: The standard trial (the demo's): without the person registry it must stay within 2^14 rows (issue 13).
STANDARD = "diagnosis in E11.* and age >= 18"


def timed(runs: int, fn: Callable[[], Any]) -> tuple[list[float], Any]:
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def spread(times: list[float], scale: float, unit: str) -> str:
    return (f"{statistics.median(times) * scale:9.2f} {unit} median ({min(times) * scale:.2f}-"
            f"{max(times) * scale:.2f}, n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--criteria", default=DIABETES_8)
    parser.add_argument("--proofs", type=int, default=3)
    parser.add_argument("--verifies", type=int, default=15)
    args = parser.parse_args()

    print(f"backend: {backend_name()}, workers: {default_workers()}, day: "
          f"{dt.date(1970, 1, 1) + dt.timedelta(TODAY)}")
    world = make_record_world()
    holder = world.issue("t2d", t2d_record())
    program = compile_program(args.criteria)
    print(f"criteria: {args.criteria}")
    compile_times, compiled = timed(1, lambda: compile_dedicated_circuit(program))
    report = compiled.report()
    rows = {row.path: row.after for row in report.rows}
    n = compiled.r1cs.n_constraints
    print(f"constraints: {n} (+{len(PUBLIC_SIGNALS) + 1} public-input rows = {n + len(PUBLIC_SIGNALS) + 1}; "
          f"{'fits' if n + len(PUBLIC_SIGNALS) + 1 <= DOMAIN else 'does NOT fit'} a 2^15 domain); "
          f"wires: {compiled.r1cs.n_wires}")
    standard = compile_dedicated_circuit(compile_program(STANDARD)).r1cs.n_constraints
    one_per_person = compile_dedicated_circuit(
        compile_program(STANDARD, Policy(one_per_person=True, opened_day=TODAY))).r1cs.n_constraints
    print(f"standard trial `{STANDARD}`: {standard} constraints (target <= 16,384 without the person registry: "
          f"{'met' if standard <= 1 << 14 else 'MISSED'}); one per person adds {one_per_person - standard} "
          f"(the person registry's depth-12 path, its leaf and registered_day < opened_day) = {one_per_person}")
    print("per part:")
    for path, count in rows.items():
        if path.count("/") == 1:
            print(f"  {path.split('/', 1)[1]:<40} {count:>7}")
    print("per atom (criteria):")
    for index, atom in enumerate(program.atoms):
        kind = "header" if isinstance(atom, HeaderAtom) else MODE_NAMES[atom.mode]
        print(f"  atom{index:<3} {kind:<13} {rows.get(f'eligibility/criteria/atom{index}', 0):>7}  "
              f"{atom.describe()[:70]}")
    native_times, verdict = timed(50, lambda: evaluate_program(program, holder.issued.credential, TODAY))
    if not verdict.eligible:
        raise SystemExit(f"the benchmark patient is not eligible: {verdict.failing_clause}")

    def inputs() -> dict[str, Any]:
        credential = holder.issued.credential
        return dedicated_inputs(
            program, credential, holder.issued.signature, holder_secret=holder.holder_secret, today=TODAY,
            recipient=0xBEEF, scope=0x1234, issuer=world.trusted.membership(world.issuer.public_key),
            revocation=world.revocation.non_membership_proof(credential.credential_id))

    solve_times, _ = timed(3, lambda: compiled.solve_witness(inputs()))
    setup_times, keys = timed(1, lambda: groth16.setup(compiled.r1cs))
    pk, vk = keys

    def prove() -> Any:
        witness = compiled.solve_witness(inputs())
        return groth16.prove(pk, witness, r1cs=compiled.r1cs), compiled.public_signals(witness)

    prove_times, (proof, public) = timed(args.proofs, prove)
    verify_times, _ = timed(args.verifies, lambda: groth16.verify(vk, public, proof))

    print()
    print(f"compile           {spread(compile_times, 1, 's')}")
    print(f"native check      {spread(native_times, 1e3, 'ms')}")
    print(f"witness solve     {spread(solve_times, 1, 's')}")
    print(f"setup             {spread(setup_times, 1, 's')}  (development keys)")
    print(f"prove             {spread(prove_times, 1, 's')}  (witness solving included; target <= 4 s)")
    print(f"verify            {spread(verify_times, 1e3, 'ms')}")


if __name__ == "__main__":
    main()
