// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Bn254} from "./Bn254.sol";

/// @title Groth16Key - validation of a verifying key at deployment, and G1 arithmetic through the precompiles.
/// @notice A key is passed as words: alpha(2) beta(4) gamma(4) delta(4) IC0(2) IC1(2) ... ICn(2), every G2
///         point in EIP-197 order (x_im, x_re, y_im, y_re).
library Groth16Key {
    /// The key's length, a coordinate, a point or its subgroup membership is wrong.
    error InvalidVerifyingKey();
    /// gamma == delta, or delta is the G2 generator: anyone could forge proofs (security.md G8).
    error InsecureVerifyingKey();

    // EIP-197 order of the G2 generator (x_im, x_re, y_im, y_re).
    uint256 internal constant G2_X_IM = 11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 internal constant G2_X_RE = 10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 internal constant G2_Y_IM = 4082367875863433681332203403145435568316851327593401208105741076214120093531;
    uint256 internal constant G2_Y_RE = 8495653923123431417604973247489272438418190587263600148770280649306958101930;

    /// Number of public signals the key serves; reverts unless the length is 14 + 2 (n + 1) with n >= 1.
    function publicSignalCount(uint256[] memory key) internal pure returns (uint256) {
        if (key.length < 18 || key.length % 2 != 0) revert InvalidVerifyingKey();
        return (key.length - 16) / 2;
    }

    /// Checks every coordinate < q, alpha and each IC on the curve (ecAdd with the identity), beta, gamma
    /// and delta in the G2 subgroup (one ecPairing call, which enforces it per EIP-197), none of alpha,
    /// beta, gamma, delta the identity, and the G8 hygiene rules. `requireNonZeroIC` also refuses an IC
    /// at infinity (a public input no constraint uses, security.md C8). Cost: ~150k gas, once.
    function validate(uint256[] memory key, bool requireNonZeroIC) internal view {
        publicSignalCount(key);
        for (uint256 i = 0; i < key.length; ++i) {
            if (key[i] >= Bn254.Q) revert InvalidVerifyingKey();
        }
        if (key[0] == 0 && key[1] == 0) revert InvalidVerifyingKey();
        for (uint256 j = 2; j < 14; j += 4) {
            if (key[j] == 0 && key[j + 1] == 0 && key[j + 2] == 0 && key[j + 3] == 0) revert InvalidVerifyingKey();
        }
        if (key[6] == key[10] && key[7] == key[11] && key[8] == key[12] && key[9] == key[13]) {
            revert InsecureVerifyingKey();
        }
        if (key[10] == G2_X_IM && key[11] == G2_X_RE && key[12] == G2_Y_IM && key[13] == G2_Y_RE) {
            revert InsecureVerifyingKey();
        }
        requireOnCurve(key[0], key[1]);
        for (uint256 i = 14; i < key.length; i += 2) {
            if (requireNonZeroIC && key[i] == 0 && key[i + 1] == 0) revert InvalidVerifyingKey();
            requireOnCurve(key[i], key[i + 1]);
        }
        bool ok;
        assembly ("memory-safe") {
            // e(G1, beta) e(G1, gamma) e(G1, delta): only the precompile's validation matters here.
            let p := mload(0x40)
            for { let k := 0 } lt(k, 3) { k := add(k, 1) } {
                let o := add(p, mul(k, 0xc0))
                mstore(o, 1)
                mstore(add(o, 0x20), 2)
                let src := add(add(key, 0x20), mul(add(2, mul(k, 4)), 0x20))
                mstore(add(o, 0x40), mload(src))
                mstore(add(o, 0x60), mload(add(src, 0x20)))
                mstore(add(o, 0x80), mload(add(src, 0x40)))
                mstore(add(o, 0xa0), mload(add(src, 0x60)))
            }
            ok := staticcall(gas(), 8, p, 0x240, p, 0x20)
        }
        if (!ok) revert InvalidVerifyingKey();
    }

    /// Reverts unless (x, y) is on the curve or the identity. Cost: ~400 gas.
    function requireOnCurve(uint256 x, uint256 y) internal view {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, x)
            mstore(add(p, 0x20), y)
            mstore(add(p, 0x40), 0)
            mstore(add(p, 0x60), 0)
            ok := staticcall(gas(), 6, p, 0x80, p, 0x40)
        }
        if (!ok) revert InvalidVerifyingKey();
    }

    /// (x1, y1) + (x2, y2) through ecAdd (EIP-196). Reverts on invalid points. Cost: ~400 gas.
    function add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256 x, uint256 y) {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, x1)
            mstore(add(p, 0x20), y1)
            mstore(add(p, 0x40), x2)
            mstore(add(p, 0x60), y2)
            ok := staticcall(gas(), 6, p, 0x80, p, 0x40)
            x := mload(p)
            y := mload(add(p, 0x20))
        }
        if (!ok) revert InvalidVerifyingKey();
    }

    /// s * (x1, y1) through ecMul (EIP-196). Reverts on an invalid point. Cost: ~6,300 gas.
    function mul(uint256 x1, uint256 y1, uint256 s) internal view returns (uint256 x, uint256 y) {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, x1)
            mstore(add(p, 0x20), y1)
            mstore(add(p, 0x40), s)
            ok := staticcall(gas(), 7, p, 0x60, p, 0x40)
            x := mload(p)
            y := mload(add(p, 0x20))
        }
        if (!ok) revert InvalidVerifyingKey();
    }
}
