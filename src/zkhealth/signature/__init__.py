"""Signatures: EdDSA-Poseidon over Baby Jubjub (what circuits verify) and Ed25519 (the credential envelope)."""
