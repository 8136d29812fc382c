"""Trusted-setup ceremonies in snarkjs formats: powers of tau, phase 2, transcripts."""
