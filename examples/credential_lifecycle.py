"""A whole-record health credential from issue to revocation, end to end.

1. A hospital imports a FHIR R4 bundle and issues a version-2 credential to a patient's wallet commitment.
2. The patient's wallet verifies it (signatures, holder commitment, dates) and stores it; the wallet is reopened.
3. Anyone verifies both signatures: the Ed25519 VC envelope (JCS) and the Baby Jubjub EdDSA-Poseidon signature
   over the header hash (the one the eligibility circuit checks), with the issuer in the issuer registry.
4. The hospital revokes the credential in its SQLite-backed revocation tree and signs its new revocation root;
   the registry operator applies the signed root, so the issuer's registry leaf and the trust root change.
5. The non-membership proof that worked before revocation no longer verifies, and no new one can be made.

Run: ``python examples/credential_lifecycle.py``. Everything happens in a temporary directory; the FHIR bundle
is synthetic (tests/fhir/t2d_adult.json).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from zkhealth.credentials.credential import subject_commitment
from zkhealth.credentials.fhir_record import record_from_bundle
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.record_vc import verify_record_credential
from zkhealth.credentials.trees import RevocationTree, verify_non_membership
from zkhealth.credentials.trust import RevocationStatement, TrustedIssuers, trust_root
from zkhealth.credentials.wallet import KDF_FLOOR, Wallet
from zkhealth.errors import CredentialRevokedError, MerkleProofError

BUNDLE = Path(__file__).resolve().parent.parent / "tests" / "fhir" / "t2d_adult.json"
TODAY = dt.date(2025, 3, 1)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        revocations = RevocationTree(work / "hospital-revocations.sqlite")
        hospital = Issuer.generate(revocation=revocations)
        registry = TrustedIssuers()
        registry.add(hospital.public_key)
        print(f"issuer {hospital.did}; trust root {trust_root(registry.root)}")

        # The patient creates a wallet first: only poseidon(holder_secret) goes to the hospital.
        # (KDF_FLOOR keeps the demo fast; real wallets use the MODERATE default.)
        wallet = Wallet.create(work / "patient.zkw", "a long patient passphrase", kdf=KDF_FLOOR)
        commitment = subject_commitment(wallet.holder_secret)

        # 1. Issue from FHIR.
        record = record_from_bundle(BUNDLE).record
        issued = hospital.issue_record(
            record, subject_commitment=commitment, issued_at=TODAY - dt.timedelta(days=30), validity_days=365
        )
        credential = issued.credential
        print(f"1. issued credential {credential.credential_id} with {len(record.conditions)} conditions")

        # 2. Verify, store and reload.
        wallet.add_credential(issued.document, trusted_issuers=registry, today=TODAY)
        wallet.save()
        reopened = Wallet.open(work / "patient.zkw", "a long patient passphrase")
        stored = reopened.credentials[0]
        print(f"2. wallet verified and stored it; reopened: {len(reopened.credentials)} credential(s), {reopened!r}")

        # 3. Verify both signatures, the record and trust.
        verified = verify_record_credential(stored, trusted_issuers=registry, today=TODAY, revocation=revocations)
        if verified != credential:
            raise SystemExit("the reloaded credential differs from the issued one")
        print("3. Ed25519 envelope and EdDSA-Poseidon header signature verified; issuer trusted")

        proof = revocations.non_membership_proof(credential.credential_id)
        root_before = revocations.root
        verify_non_membership(root_before, credential.credential_id, proof)
        print(f"   non-membership proof verified against the issuer's revocation root {root_before}")

        # 4. Revoke, sign the new root, apply it to the issuer registry.
        hospital.revoke(credential.credential_id)
        statement = RevocationStatement.from_json(hospital.revocation_statement().to_json())
        registry.apply(statement)
        print(f"4. revoked; revocation root {revocations.root}, signed and applied: trust root now "
              f"{trust_root(registry.root)}")

        # 5. The old proof fails against the new root; no new proof exists; verification refuses.
        try:
            verify_non_membership(registry.membership(hospital.public_key).revocation_root, credential.credential_id,
                                  proof)
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
            verify_record_credential(stored, trusted_issuers=registry, today=TODAY, revocation=revocations)
        except CredentialRevokedError:
            print("   verify_record_credential: CredentialRevokedError")
        else:
            raise SystemExit("a revoked credential verified")
        revocations.close()


if __name__ == "__main__":
    main()
