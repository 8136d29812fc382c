// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken - TEST ONLY: a malicious ERC-20 whose `transfer` calls back into a target (the trial
///        registry) with chosen calldata before moving the tokens, and bubbles up the callback's revert.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public callback;

    constructor() ERC20("Reentrant", "RNT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// Arm the attack: every later `transfer` first calls `target` with `data` (empty data disarms it).
    function arm(address target_, bytes calldata data) external {
        target = target_;
        callback = data;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        if (callback.length != 0) {
            (bool ok, bytes memory returned) = target.call(callback);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(returned, 0x20), mload(returned))
                }
            }
        }
        return super.transfer(to, value);
    }
}
