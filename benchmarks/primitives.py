"""Print median timings of zkhealth's native primitives.

Run: ``python benchmarks/primitives.py`` (set ``ZKHEALTH_NO_GMPY2=1`` to measure the plain-int backend).
Figures: Poseidon hashes/s for 2, 5 and 16 inputs; EdDSA-Poseidon sign and verify (ms); Baby Jubjub
fixed-base and variable-base scalar multiplication (ms); BLAKE-512 per call; Ed25519 sign/verify.
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable

from zkhealth._bigint import backend_name
from zkhealth.field import FIELD_R
from zkhealth.hash.blake512 import blake512
from zkhealth.hash.poseidon import poseidon, poseidon_constants
from zkhealth.hazmat import babyjubjub as bjj
from zkhealth.signature.ed25519 import Ed25519SigningKey
from zkhealth.signature.eddsa_poseidon import PrivateKey, sign, verify


def median_seconds(function: Callable[[], object], *, batch: int, rounds: int = 15) -> float:
    """Median over ``rounds`` of the mean time per call in a batch of ``batch`` calls.

    Uses the process CPU clock, so figures stay meaningful on a shared, loaded machine.
    """
    function()  # warm caches (constants, tables)
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(batch):
            function()
        samples.append((time.process_time() - start) / batch)
    return statistics.median(samples)


def main() -> None:
    print(f"big-int backend: {backend_name()} (timings: median CPU time per call)")

    start = time.perf_counter()
    poseidon_constants(3)
    print(f"Poseidon constants, first use of t=3: {(time.perf_counter() - start) * 1e3:.1f} ms")

    for n in (2, 5, 16):
        inputs = [secrets.randbelow(FIELD_R) for _ in range(n)]
        seconds = median_seconds(lambda inputs=inputs: poseidon(inputs), batch=200)  # type: ignore[misc]
        print(f"Poseidon({n}): {1 / seconds:,.0f} hashes/s ({seconds * 1e6:.1f} us/hash)")

    key = PrivateKey.generate()
    public_key = key.public_key()
    message = secrets.randbelow(FIELD_R)
    signature = sign(key, message)
    print(f"EdDSA-Poseidon sign: {median_seconds(lambda: sign(key, message), batch=20) * 1e3:.2f} ms")
    verify_seconds = median_seconds(lambda: verify(public_key, message, signature), batch=20)
    print(f"EdDSA-Poseidon verify: {verify_seconds * 1e3:.2f} ms")
    print(f"EdDSA-Poseidon key derivation: {median_seconds(lambda: PrivateKey(b'k' * 32), batch=20) * 1e3:.2f} ms")

    scalar = secrets.randbelow(bjj.SUBORDER)
    point = bjj.mul_base8(secrets.randbelow(bjj.SUBORDER))
    print(f"Baby Jubjub k*Base8 (fixed base): {median_seconds(lambda: bjj.mul_base8(scalar), batch=50) * 1e3:.3f} ms")
    print(f"Baby Jubjub k*P (variable base): {median_seconds(lambda: bjj.mul(point, scalar), batch=20) * 1e3:.3f} ms")

    for size in (64, 1024):
        data = secrets.token_bytes(size)
        seconds = median_seconds(lambda data=data: blake512(data), batch=50)  # type: ignore[misc]
        print(f"BLAKE-512 ({size} bytes): {seconds * 1e3:.3f} ms per call")

    ed_key = Ed25519SigningKey.generate()
    envelope = secrets.token_bytes(1024)
    ed_signature = ed_key.sign(envelope)
    print(f"Ed25519 sign (1 KiB): {median_seconds(lambda: ed_key.sign(envelope), batch=100) * 1e3:.3f} ms")
    print(
        "Ed25519 verify (1 KiB): "
        f"{median_seconds(lambda: ed_key.verify_key.verify(envelope, ed_signature), batch=100) * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
