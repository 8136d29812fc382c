"""Hash functions: Poseidon (circomlib parameters) and BLAKE-512 (the SHA-3 finalist, for EdDSA keys)."""
