// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title TrustDirectory - who is trusted: the issuers admitted to the issuer registry and the person registry's
///        registrars. Owned by the DAO's timelock, so both lists change only through governance.
/// @notice The registry operator builds the issuer registry tree (leaf poseidon([Ax, Ay, revocation_root]))
///         from the admitted issuers' Baby Jubjub keys, and accepts person registrations only from registrars
///         listed here; it then publishes the trust root to the consuming contracts. The lists live in events
///         and in the mappings below; the audit trail rebuilds them.
contract TrustDirectory is Ownable2Step {
    mapping(bytes32 issuerKey => bool) public isIssuer;
    mapping(address registrar => bool) public isRegistrar;

    event IssuerAdded(bytes32 indexed issuerKey, uint256 ax, uint256 ay, string label);
    event IssuerRemoved(bytes32 indexed issuerKey, uint256 ax, uint256 ay);
    event RegistrarSet(address indexed registrar, bool authorised);

    /// The issuer is already admitted.
    error IssuerAlreadyAdded();
    /// The issuer is not admitted.
    error UnknownIssuer();
    /// A key coordinate is not a field element.
    error InvalidIssuerKey();

    uint256 internal constant FIELD_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    constructor(address initialOwner) Ownable(initialOwner) {}

    /// keccak256(abi.encode(ax, ay)): the id of an issuer's Baby Jubjub key.
    function issuerKey(uint256 ax, uint256 ay) public pure returns (bytes32) {
        return keccak256(abi.encode(ax, ay));
    }

    /// Owner (governance): admit an issuer.
    function addIssuer(uint256 ax, uint256 ay, string calldata label) external onlyOwner {
        if (ax >= FIELD_R || ay >= FIELD_R) revert InvalidIssuerKey();
        bytes32 key = issuerKey(ax, ay);
        if (isIssuer[key]) revert IssuerAlreadyAdded();
        isIssuer[key] = true;
        emit IssuerAdded(key, ax, ay, label);
    }

    /// Owner (governance): remove an issuer.
    function removeIssuer(uint256 ax, uint256 ay) external onlyOwner {
        bytes32 key = issuerKey(ax, ay);
        if (!isIssuer[key]) revert UnknownIssuer();
        isIssuer[key] = false;
        emit IssuerRemoved(key, ax, ay);
    }

    /// Owner (governance): authorise or remove a person-registry registrar.
    function setRegistrar(address registrar, bool authorised) external onlyOwner {
        isRegistrar[registrar] = authorised;
        emit RegistrarSet(registrar, authorised);
    }
}
