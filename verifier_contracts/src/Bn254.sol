// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Bn254 - constants and the Groth16 pairing check shared by zkhealth's contracts.
/// @notice Calls the EIP-196 (ecAdd 0x06, ecMul 0x07) and EIP-197 (ecPairing 0x08) precompiles; gas per
///         EIP-1108: ecAdd 150, ecMul 6000, ecPairing 45000 + 34000 per pair.
library Bn254 {
    /// Scalar field modulus r: every public signal must be below it (security.md G1/G2, snarkjs #480).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Base field modulus q: every coordinate must be below it (EIP-196/197 reject larger ones).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;

    /// Memory layout of the 768-byte ecPairing input used by `pairingCheck`, relative to its base pointer:
    /// 0x000 -A (x, y) | 0x040 B (4 words) | 0x0c0 alpha | 0x100 beta | 0x180 vk_x | 0x1c0 gamma |
    /// 0x240 C | 0x280 delta. The caller leaves vk_x (the public-input accumulator) at base + 0x180;
    /// base + 0x1c0 .. 0x220 is scratch for the accumulation (it is overwritten with gamma below).
    uint256 internal constant ACC = 0x180;
    uint256 internal constant SCRATCH = 0x1c0;

    /// Groth16 check e(-A, B) e(alpha, beta) e(vk_x, gamma) e(C, delta) == 1 (Groth16 §3.2, as an
    /// EIP-197 product). `key` is the code offset of the 14 words alpha(2) beta(4) gamma(4) delta(4), G2
    /// coordinates in EIP-197 order (x_im, x_re, y_im, y_re). The proof is read from calldata at
    /// 4 (A), 68 (B, already in EIP-197 order) and 196 (C): the head of
    /// `f(uint256[2], uint256[2][2], uint256[2], ...)`. Returns false when the precompile rejects a
    /// point (off curve, outside the G2 subgroup, coordinate >= q) or the product is not one.
    /// Cost: ~181,000 gas for the precompile plus ~300 for copying.
    function pairingCheck(uint256 base, uint256 key) internal view returns (bool ok) {
        assembly ("memory-safe") {
            codecopy(add(base, 0x0c0), key, 0xc0) // alpha, beta
            codecopy(add(base, 0x1c0), add(key, 0xc0), 0x80) // gamma
            codecopy(add(base, 0x280), add(key, 0x140), 0x80) // delta
            mstore(base, calldataload(4))
            // -A = (x, q - y); the identity (0, 0) stays (0, 0).
            mstore(add(base, 0x20), mod(sub(Q, calldataload(36)), Q))
            calldatacopy(add(base, 0x40), 68, 0x80) // B
            calldatacopy(add(base, 0x240), 196, 0x40) // C
            let success := staticcall(gas(), 8, base, 0x300, base, 0x20)
            ok := and(success, eq(mload(base), 1))
        }
    }

    /// True when all eight proof coordinates in calldata (offsets 4 .. 260) are below q.
    /// Cost: ~120 gas.
    function proofIsCanonical() internal pure returns (bool canonical) {
        assembly ("memory-safe") {
            canonical := and(
                and(
                    and(lt(calldataload(4), Q), lt(calldataload(36), Q)),
                    and(lt(calldataload(68), Q), lt(calldataload(100), Q))
                ),
                and(
                    and(lt(calldataload(132), Q), lt(calldataload(164), Q)),
                    and(lt(calldataload(196), Q), lt(calldataload(228), Q))
                )
            )
        }
    }
}
