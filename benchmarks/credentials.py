"""Credential figures: issuance rate (signatures + revocation-tree insertions) and wallet open time.

Run: ``python benchmarks/credentials.py [--count 1000] [--repeats 3]``. Prints medians.

* issue: ``Issuer.issue`` for ``count`` credentials (EdDSA-Poseidon + Ed25519 signatures, JCS, Poseidon
  hashes), then inserting every credential id into an on-disk SQLite revocation tree (``revoke_many``, one
  transaction, as an issuer's nightly batch would). Target: >= 100 credentials/s end to end.
* verify: ``verify_credential`` (both signatures, consistency checks), per credential.
* wallet: ``Wallet.open`` at the default KDF parameters (Argon2id MODERATE) and at the enforced floor.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from zkhealth.credentials.credential import HealthClaims, subject_commitment
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.trees import RevocationTree
from zkhealth.credentials.vc import verify_credential
from zkhealth.credentials.wallet import KDF_FLOOR, MODERATE, Wallet

CLAIMS = HealthClaims(
    birth_date="1961-04-12",
    gender="female",
    hba1c=("7.4", "2025-01-10"),
    egfr=("72.5", "2025-01-10"),
    systolic_bp=132,
    diagnoses=[("E11.9", "2019-03-04"), ("I10", "2015-06-20")],
)


def bench_issue(count: int, workdir: Path, run: int) -> tuple[float, float, float, list[dict[str, object]]]:
    tree = RevocationTree(workdir / f"revocations-{run}.sqlite")
    issuer = Issuer.generate(revocation=tree)
    commitment = subject_commitment(123456789)
    start = time.perf_counter()
    issued = [issuer.issue(CLAIMS, subject_commitment=commitment, issued_at=20103) for _ in range(count)]
    signed = time.perf_counter()
    tree.revoke_many(item.credential.credential_id for item in issued)
    inserted = time.perf_counter()
    tree.close()
    return signed - start, inserted - signed, inserted - start, [item.document for item in issued]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    # Warm up (Poseidon constants, ICD table, Baby Jubjub tables).
    Issuer.generate().issue(CLAIMS, subject_commitment=1, issued_at=20103)

    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        signing, inserting, totals = [], [], []
        documents: list[dict[str, object]] = []
        for run in range(args.repeats):
            sign_s, insert_s, total_s, documents = bench_issue(args.count, work, run)
            signing.append(sign_s)
            inserting.append(insert_s)
            totals.append(total_s)
        total = statistics.median(totals)
        print(
            f"issue {args.count} credentials: median {total:.2f} s = {args.count / total:.0f} credentials/s "
            f"(signing {statistics.median(signing):.2f} s, revocation-tree inserts "
            f"{statistics.median(inserting):.2f} s); target >= 100/s"
        )

        sample = documents[:100]
        start = time.perf_counter()
        for document in sample:
            verify_credential(
                document,
                trusted_issuers=[tuple(int(v) for v in document["babyJubjubSignature"]["publicKey"])],  # type: ignore[index]
                today=20110,
            )
        per = (time.perf_counter() - start) / len(sample)
        print(f"verify_credential: median-free mean over {len(sample)}: {per * 1000:.2f} ms each")

        for label, params in (
            ("default (MODERATE: 256 MiB, 3 passes)", MODERATE),
            ("floor (19 MiB, 2 passes)", KDF_FLOOR),
        ):
            path = work / f"wallet-{params.memlimit}.zkw"
            wallet = Wallet.create(path, "benchmark passphrase", kdf=params)
            wallet.add_credential(documents[0])
            wallet.save()
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                Wallet.open(path, "benchmark passphrase")
                times.append(time.perf_counter() - start)
            print(f"wallet open at {label}: median {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
