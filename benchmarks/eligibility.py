"""Eligibility benchmark: the standard "diagnosis in E11.* and age >= 18" trial, end to end.

    python benchmarks/eligibility.py                 # 3 proofs, 15 verifications
    python benchmarks/eligibility.py --proofs 5 --verifies 30 --criteria "age >= 40 and diagnosis in I10"

Prints the constraint count per part and per clause (with the public-input rows, against the 2^14 domain),
then the medians of: circuit compilation, native eligibility check, witness solving, setup (once), proving
(witness solving included), verification (policy checks plus Groth16, from the JSON text) and batch
verification, and the proof size (JSON, and the 256-byte point encoding). Targets (issue 6): at most
16,384 rows, prove <= 3 s median, verify <= 15 ms. Nothing is asserted.
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

from patients import TODAY, make_world  # noqa: E402

from zkhealth._bigint import backend_name  # noqa: E402
from zkhealth.eligibility import EligibilityProof, Trial, eligibility_inputs, prove_eligibility  # noqa: E402
from zkhealth.hazmat.parallel import default_workers  # noqa: E402

STANDARD = "diagnosis in E11.* and age >= 18"


def median_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--criteria", default=STANDARD)
    parser.add_argument("--proofs", type=int, default=3)
    parser.add_argument("--verifies", type=int, default=15)
    args = parser.parse_args()

    print(f"backend: {backend_name()}, workers: {default_workers()}, day: {dt.date(1970, 1, 1) + dt.timedelta(TODAY)}")
    world = make_world(["t2d_adult"])
    patient = world.patient("t2d_adult")
    trial = Trial(
        args.criteria,
        trial_id="NCT05000001",
        scope=0x1234,
        trusted_issuer_roots={world.registry.root},
        revocation_roots={world.revocation.root},
    )
    compile_s, _ = median_of(1, trial.compile)
    report = trial.cost_report()
    print(report.format())
    rows = report.constraints + report.public_rows
    print(f"rows: {rows} of {1 << 14} ({'fits' if rows <= 1 << 14 else 'does NOT fit'} a 2^14 domain)")

    native_s, verdict = median_of(200, lambda: trial.evaluate(patient.issued.credential, TODAY))
    if not verdict.eligible:
        raise SystemExit(f"the benchmark patient is not eligible: {verdict.failing_clause}")
    inputs = eligibility_inputs(
        patient.issued.credential,
        patient.issued.signature,
        holder_secret=patient.holder_secret,
        today=TODAY,
        recipient=0xBEEF,
        scope=0x1234,
        trusted_issuer_root=world.registry.root,
        registry_proof=world.registry.proof(world.issuer.public_key),
        revocation_root=world.revocation.root,
        revocation_proof=world.revocation.non_membership_proof(patient.issued.credential.credential_id),
    )
    solve_s, _ = median_of(5, lambda: trial.compile().solve_witness(inputs))
    setup_s, _ = median_of(1, trial.setup)

    def prove() -> Any:
        return prove_eligibility(
            trial,
            patient.issued,
            patient.holder_secret,
            today=TODAY,
            recipient=0xBEEF,
            **world.proofs(patient.issued),
        )

    prove_s, proof = median_of(args.proofs, prove)
    text = proof.to_json()
    verify_s, _ = median_of(args.verifies, lambda: trial.verify(EligibilityProof.from_json(text), today=TODAY))
    batch = [prove() for _ in range(3)] + [proof]
    batch_s, _ = median_of(3, lambda: trial.verify_batch(batch, today=TODAY))

    print()
    print(f"compile           {compile_s * 1e3:9.1f} ms")
    print(f"native check      {native_s * 1e6:9.1f} us")
    print(f"witness solve     {solve_s * 1e3:9.1f} ms   (median of 5)")
    print(f"setup             {setup_s:9.2f} s    (once; predicted {report.predicted_setup_seconds:.0f} s)")
    print(f"prove             {prove_s:9.2f} s    (median of {args.proofs}; target <= 3 s; "
          f"predicted {report.predicted_prove_seconds:.1f} s)")
    print(f"verify            {verify_s * 1e3:9.1f} ms   (median of {args.verifies}; target <= 15 ms)")
    print(f"batch verify      {batch_s * 1e3 / len(batch):9.1f} ms per proof (batch of {len(batch)})")
    print(f"proof size        {len(text):9d} bytes JSON, 256 bytes as points (A, C in G1; B in G2)")


if __name__ == "__main__":
    main()
