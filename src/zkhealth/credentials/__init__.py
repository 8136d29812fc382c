"""Health credentials: schema, claim encoding, issuer, wallet, trees and registries, VC envelope, FHIR import.

The encoding the eligibility circuit checks is documented once, in :mod:`zkhealth.credentials.schema`. Every
public name of the submodules is importable from here; each is imported on first use (PEP 562), so
``import zkhealth.credentials`` stays cheap and heavy dependencies (``fhir.resources``, libsodium) load only
when a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Submodule -> the public names (space-separated) it exports through this package; a test keeps this equal to
#: the submodules' ``__all__``.
_EXPORTS: dict[str, str] = {
    "credential": "Credential Diagnosis HealthClaims LabValue claims_hash_of subject_commitment",
    "schema": (
        "CLAIM_LAYOUT CLAIM_SPECS GENDERS HASH_CHUNK ICD10_RELEASE MAX_DIAGNOSES SCHEMA_ID SCHEMA_NAME SCHEMA_VERSION "
        "VECTOR_LENGTH"
    ),
    "dates": (
        "CLINICAL_DATE_OFFSET DATE_BITS EPOCH clinical_date_to_date date_to_clinical date_to_epoch_day "
        "epoch_day_to_date packed_date parse_date today_epoch_day"
    ),
    "encoding": "ClaimSpec decode_fixed encode_fixed format_fixed parse_decimal",
    "icd10": (
        "ICD10_CODE_BITS IcdTable build_table_from_package code_range decode_code encode_code is_valid_code "
        "load_table normalize_code"
    ),
    "trees": (
        "ARITY BUSY_TIMEOUT_SECONDS BinaryMerkleTree CREDENTIAL_ID_BITS EMPTY_LEAF ISSUER_REGISTRY_DEPTH IssuerKey "
        "IssuerRegistry REGISTRY_MAX_BYTES REGISTRY_MAX_ISSUERS "
        "MerkleProof NonMembershipProof QuaternaryMerkleTree REVOCATION_TREE_DEPTH RevocationTree RootRecord "
        "compute_binary_merkle_root compute_merkle_root empty_subtree_roots issuer_leaf revocation_leaf "
        "validate_issuer_key verify_merkle_proof verify_non_membership"
    ),
    "jcs": "canonicalize format_number",
    "vc": (
        "CREDENTIAL_TYPE CREDENTIAL_URN IssuedCredential SCHEMA_URN build_document decode_credential "
        "did_key_from_ed25519 ed25519_from_did_key parse_credential_id parse_document sign_document signing_bytes "
        "verify_credential verify_envelope"
    ),
    "issuer": "DEFAULT_VALIDITY_DAYS Issuer check_no_future_dates new_credential_id",
    "wallet": "BABYJUBJUB_SUBGROUP_ORDER KDF_CAP KDF_FLOOR KdfParams MODERATE Wallet derive_key passphrase_bytes",
    "keyfile": "IssuerPublicInfo KEY_FILE_FORMAT create_issuer_key_file load_issuer read_issuer_public_key",
    "fhir": "BundleSource ICD10CM_SYSTEM LOINC_SYSTEM UCUM_SYSTEM claims_from_bundle load_bundle",
    "codes": (
        "CODE_BITS CONDITION_ACTIVE CONDITION_CLINICAL CONDITION_VERIFICATION CodeSystem DOSES DOSE_BY_CODE DoseUnit "
        "ENCOUNTER_STATUS MEDICATION_STATUS OBSERVATIONS OBSERVATION_BY_LOINC OBSERVATION_BY_NAME OBSERVATION_STATUS "
        "ObservationConcept ObservationKind PROCEDURE_STATUS SYSTEMS atc_decode atc_encode atc_prefixes atc_range "
        "clinical_code_range condition_status cvx_encode decode_clinical_code dose_unit encode_clinical_code "
        "icd10_ancestors icd10_node_tiling loinc_check_digit loinc_decode loinc_encode normalize_clinical_code "
        "observation observation_of pcs_decode pcs_encode pcs_range rxnorm_encode snomed_encode verhoeff_valid"
    ),
    "sorted_set": (
        "DATE_FIELD_BITS KEY_BITS LEAF_FIELDS MAX_DATE MAX_LEAVES SEQ_BITS SET_DEPTH STATUS_BITS TAG_BITS VALUE_BITS "
        "SetLeaf SortedSet date_fields key_range make_key split_key"
    ),
    "record": (
        "ADMISSION_REASON_UNKNOWN Allergy Condition DiagnosisDetail Encounter HEADER_FIELDS HEADER_INDEX HEADER_LENGTH "
        "ICD10_GROUPS Immunization KIND_TAGS LATEST_EXPIRY Medication Observation PatientRecord Procedure "
        "RECORD_SCHEMA_VERSION RecordCredential SETS SET_TAGS build_sets header_hash record_from_v1"
    ),
    "record_vc": (
        "RECORD_SCHEMA_TYPE RECORD_SCHEMA_URN IssuedRecord build_record_document is_record_document issue_record "
        "parse_record_document verify_record_credential"
    ),
    "persons": "PERSON_REGISTRY_DEPTH PersonEntry PersonMembership PersonRegistry empty_person_root person_leaf",
    "trust": (
        "REGISTRY_FORMAT REVOCATION_STATEMENT_FORMAT IssuerEntry IssuerMembership RevocationStatement "
        "TrustedIssuers empty_revocation_root trust_root trusted_issuer_leaf"
    ),
    "trust_roots": (
        "DEFAULT_GRACE_SECONDS DEFAULT_KEEP_SECONDS TRUST_ROOTS_FORMAT PublishedRoot RootHistory TrustRootDocument"
    ),
    "fhir_record": "ImportResult record_from_bundle",
    "code_map": (
        "MAP_COLUMNS MAP_HEADER MAX_CODES_PER_CELL MAX_MAP_BYTES MAX_MAP_ROWS CodeMap MapEntry parse_code_map "
        "read_code_map"
    ),
    "ehr_import": (
        "BundleImport DoseReading ENTRY_KINDS ImportSummary KindCounts Listed MAX_BUNDLE_BYTES MAX_ENTRIES "
        "MCODE_HISTOLOGY NOT_HELD_KINDS NO_KNOWN_CODES daily_dose import_bundle import_health_cards load_bundle_json"
    ),
    "shc": (
        "CLOCK_SKEW_SECONDS HEALTH_CARD_TYPE MAX_CARD_FILE_BYTES MAX_INFLATED_BYTES MAX_JWKS_BYTES MAX_JWS_CHARS "
        "TrustedCardIssuers VerifiedHealthCard decode_qr_numeric encode_qr_numeric read_health_cards "
        "verify_health_card"
    ),
    "units": (
        "ANNOTATION_IN_CODE COMPARATORS CanonicalValue HBA1C_IFCC_LOINC HBA1C_LOINC MOLAR_MASS_G_PER_MOL to_canonical"
    ),
    "vc2": "CRYPTOSUITE VC2_CONTEXT Vc2Verified build_vc2 instant is_vc2 sign_vc2 signing_hash verify_vc2",
}
_WHERE: dict[str, str] = {name: module for module, names in _EXPORTS.items() for name in names.split()}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it in the package."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'zkhealth.credentials' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"zkhealth.credentials.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
