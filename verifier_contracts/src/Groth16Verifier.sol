// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Bn254} from "./Bn254.sol";
import {Groth16Key} from "./Groth16Key.sol";

/// @title Groth16Verifier - one compiled runtime for every Groth16 key over BN254.
/// @notice The key is not compiled in: `Groth16VerifierInit` appends it to this runtime's code at deployment,
///         so users deploy any key without a compiler, and reading it costs CODECOPY (3 gas a word), the
///         same as the PUSH32 constants of a per-key rendered verifier.
///
///         Calldata is that of snarkjs' exported verifier, `verifyProof(uint256[2] a, uint256[2][2] b,
///         uint256[2] c, uint256[n] publicSignals) returns (bool)`, with b in EIP-197 order; the selector
///         (which depends on n) is stored in the key data. Returns true or false for a well-formed call;
///         reverts with a custom error on malformed input: a public signal >= r (`InputNotInField`), a proof
///         coordinate >= q (`ProofNotCanonical`), a wrong length (`MalformedCalldata`).
///
///         Key data (words, appended after the runtime code), read from the end of the code:
///           alpha(2) beta(4) gamma(4) delta(4) IC0(2) IC1(2) .. ICn(2) foldedIndex foldedValue header
///         header = selector << 224 | MAGIC << 32 | n. A folded signal (see `Groth16VerifierInit`) is not in
///         the calldata; its term is already inside IC0.
contract Groth16Verifier {
    /// This code runs without key data: deploy it through Groth16VerifierInit.
    error NotInstalled();
    /// The selector is not one this verifier serves.
    error UnknownSelector();
    /// The call's length does not match `verifyProof` with this verifier's signal count.
    error MalformedCalldata();
    /// Public signal `index` is not below r (security.md G1/G2/K1).
    error InputNotInField(uint256 index);
    /// A proof coordinate is not below q.
    error ProofNotCanonical();

    uint256 internal constant MAGIC = 0x7a6b6876; // "zkhv"
    // Bn254.R, repeated as a literal because inline assembly reads only literal constants.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    bytes4 internal constant PUBLIC_INPUT_COUNT = bytes4(keccak256("publicInputCount()"));
    bytes4 internal constant FOLDED_SIGNAL = bytes4(keccak256("foldedSignal()"));

    /// Dispatches `verifyProof` (selector from the key data), `publicInputCount()` and `foldedSignal()`.
    /// Cost of `verifyProof`: ecPairing (181,000) + n * (ecMul 6,000 + ecAdd 150) + ~1,500 gas.
    fallback() external {
        uint256 header;
        assembly ("memory-safe") {
            codecopy(0, sub(codesize(), 0x20), 0x20)
            header := mload(0)
        }
        if (uint32(header >> 32) != MAGIC) revert NotInstalled();
        uint256 n = uint32(header);
        uint256 tail;
        assembly ("memory-safe") {
            tail := sub(codesize(), shl(5, add(19, shl(1, n))))
        }
        bytes4 selector = msg.sig;
        if (selector == bytes4(uint32(header >> 224))) {
            if (msg.data.length != 260 + 32 * n) revert MalformedCalldata();
            if (!Bn254.proofIsCanonical()) revert ProofNotCanonical();
            uint256 base;
            uint256 badIndex = type(uint256).max;
            bool ok;
            assembly ("memory-safe") {
                base := mload(0x40)
                let acc := add(base, 0x180)
                let scratch := add(base, 0x1c0)
                codecopy(acc, add(tail, 0x1c0), 0x40) // IC0
                let ic := add(tail, 0x200)
                let end := add(260, shl(5, n))
                ok := 1
                for { let p := 260 } lt(p, end) { p := add(p, 0x20) } {
                    let s := calldataload(p)
                    if iszero(lt(s, R)) {
                        badIndex := shr(5, sub(p, 260))
                        break
                    }
                    codecopy(scratch, ic, 0x40)
                    mstore(add(scratch, 0x40), s)
                    // EIP-196: ecMul IC_i * s_i, then ecAdd into the accumulator.
                    ok := and(ok, staticcall(gas(), 7, scratch, 0x60, scratch, 0x40))
                    ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
                    ic := add(ic, 0x40)
                }
            }
            if (badIndex != type(uint256).max) revert InputNotInField(badIndex);
            ok = ok && Bn254.pairingCheck(base, tail);
            assembly ("memory-safe") {
                mstore(0, ok)
                return(0, 0x20)
            }
        }
        if (selector == PUBLIC_INPUT_COUNT) {
            assembly ("memory-safe") {
                mstore(0, n)
                return(0, 0x20)
            }
        }
        if (selector == FOLDED_SIGNAL) {
            assembly ("memory-safe") {
                codecopy(0, add(tail, shl(5, add(16, shl(1, n)))), 0x40)
                return(0, 0x40)
            }
        }
        revert UnknownSelector();
    }
}

/// @title Groth16VerifierInit - creation code that installs a Groth16Verifier with its key.
/// @notice Its constructor validates the key (Groth16Key.validate), optionally folds one public signal whose
///         value is fixed for the deployment into IC0 (IC0 += value * IC_{index+1}, saving one ecMul and one
///         ecAdd per call), then returns Groth16Verifier's runtime code followed by the key data, so the
///         deployed contract IS a Groth16Verifier. No storage is written.
contract Groth16VerifierInit {
    /// The folded signal's index or value is out of range, or folding would leave no public signal.
    error InvalidFold();

    uint256 internal constant MAGIC = 0x7a6b6876;
    uint256 internal constant NOT_FOLDED = type(uint256).max;

    /// @param key the verifying key words (see Groth16Key).
    /// @param foldedIndex index of the public signal to fold, or 2^256 - 1 for none.
    /// @param foldedValue that signal's value (< r).
    constructor(uint256[] memory key, uint256 foldedIndex, uint256 foldedValue) {
        Groth16Key.validate(key, false);
        uint256 m = Groth16Key.publicSignalCount(key);
        uint256 n = m;
        if (foldedIndex != NOT_FOLDED) {
            if (foldedIndex >= m || foldedValue >= Bn254.R || m == 1) revert InvalidFold();
            uint256 at = 16 + 2 * foldedIndex;
            (uint256 tx_, uint256 ty) = Groth16Key.mul(key[at], key[at + 1], foldedValue);
            (key[14], key[15]) = Groth16Key.add(key[14], key[15], tx_, ty);
            for (uint256 i = at; i + 2 < key.length; ++i) {
                key[i] = key[i + 2];
            }
            assembly ("memory-safe") {
                mstore(key, sub(mload(key), 2))
            }
            n = m - 1;
        } else {
            foldedValue = 0;
        }
        bytes4 selector = bytes4(
            keccak256(
                abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", _decimal(n), "])")
            )
        );
        uint256 header = (uint256(uint32(selector)) << 224) | (MAGIC << 32) | n;
        bytes memory code =
            abi.encodePacked(type(Groth16Verifier).runtimeCode, key, foldedIndex, foldedValue, header);
        assembly ("memory-safe") {
            return(add(code, 0x20), mload(code))
        }
    }

    function _decimal(uint256 value) private pure returns (bytes memory out) {
        uint256 digits = 1;
        for (uint256 v = value; v >= 10; v /= 10) ++digits;
        out = new bytes(digits);
        for (uint256 i = digits; i > 0; --i) {
            out[i - 1] = bytes1(uint8(48 + (value % 10)));
            value /= 10;
        }
    }
}
