"""Health credentials: schema, claim encoding, issuer, wallet, revocation, VC JSON and FHIR import."""
