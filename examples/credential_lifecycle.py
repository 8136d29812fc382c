"""A health credential from issue to revocation, end to end (the issue's "Done when" script).

1. A hospital imports a FHIR R4 bundle and issues a credential to a patient's wallet commitment.
2. The patient stores it in an encrypted wallet, then reopens the wallet from disk.
3. Anyone verifies both signatures: the Ed25519 VC envelope (JCS) and the Baby Jubjub EdDSA-Poseidon
   signature over the claims hash (the one the eligibility circuit checks), with the issuer in a trusted-issuer
   registry.
4. The hospital revokes the credential in its SQLite-backed revocation tree.
5. The non-membership proof that worked before revocation no longer verifies, and no new one can be made.

Run: ``python examples/credential_lifecycle.py``. Everything happens in a temporary directory; the FHIR bundle
is synthetic (tests/fhir/t2d_adult.json).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.trees import IssuerRegistry, RevocationTree, verify_non_membership
from zkhealth.credentials.vc import verify_credential
from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
from zkhealth.errors import CredentialRevokedError, MerkleProofError

BUNDLE = Path(__file__).resolve().parent.parent / "tests" / "fhir" / "t2d_adult.json"
TODAY = dt.date(2025, 3, 1)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        revocations = RevocationTree(work / "hospital-revocations.sqlite")
        hospital = Issuer.generate(revocation=revocations)
        registry = IssuerRegistry()
        registry.add(hospital.public_key)
        print(f"issuer {hospital.did}; trusted-issuer root {registry.root}")

        # The patient creates a wallet first: only poseidon(holder_secret) goes to the hospital.
        # (KDF_FLOOR keeps the demo fast; real wallets use the MODERATE default.)
        wallet = Wallet.create(work / "patient.zkw", "a long patient passphrase", kdf=KDF_FLOOR)
        commitment = subject_commitment(wallet.holder_secret)

        # 1. Issue from FHIR.
        issued = hospital.issue_from_fhir(
            BUNDLE, subject_commitment=commitment, issued_at=TODAY - dt.timedelta(days=30), validity_days=365
        )
        credential = issued.credential
        print(f"1. issued credential {credential.credential_id} with {len(credential.claims.diagnoses)} diagnoses")

        # 2. Store and reload.
        wallet.add_credential(issued.document)
        wallet.save()
        reopened = Wallet.open(work / "patient.zkw", "a long patient passphrase")
        stored = reopened.credentials[0]
        print(f"2. wallet reopened: {len(reopened.credentials)} credential(s), {reopened!r}")

        # 3. Verify both signatures, the claims and trust.
        verified = verify_credential(stored, trusted_issuers=registry, today=TODAY, revocation=revocations)
        if verified != credential:
            raise SystemExit("the reloaded credential differs from the issued one")
        print("3. Ed25519 envelope and EdDSA-Poseidon claims signature verified; issuer trusted")

        proof = revocations.non_membership_proof(credential.credential_id)
        root_before = revocations.root
        verify_non_membership(root_before, credential.credential_id, proof)
        print(f"   non-membership proof verified against revocation root {root_before}")

        # 4. Revoke.
        hospital.revoke(credential.credential_id)
        print(f"4. revoked; revocation root is now {revocations.root}")

        # 5. The old proof fails against the new root; no new proof exists; verification refuses.
        try:
            verify_non_membership(revocations.root, credential.credential_id, proof)
        except MerkleProofError:
            print("5. non-membership proof rejected after revocation (stale root)")
        else:
            raise SystemExit("the old non-membership proof still verified")
        try:
            revocations.non_membership_proof(credential.credential_id)
        except CredentialRevokedError:
            print("   no new non-membership proof: the credential id is in the tree")
        else:
            raise SystemExit("a non-membership proof was produced for a revoked credential")
        try:
            verify_credential(stored, trusted_issuers=registry, today=TODAY, revocation=revocations)
        except CredentialRevokedError:
            print("   verify_credential: CredentialRevokedError")
        else:
            raise SystemExit("a revoked credential verified")
        revocations.close()


if __name__ == "__main__":
    main()
