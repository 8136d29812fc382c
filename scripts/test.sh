#!/usr/bin/env bash
# Run the whole zkhealth test suite from a fresh checkout: install the package with its test extras and the
# pinned npm tools (snarkjs, solc-js, OpenZeppelin, anvil) the suite checks us against, then run every tier (the
# dashboard's browser tests included: they need Chromium, which .ci/run installs from Debian packages) under
# `python -O` (asserts stripped), then the native tier again without gmpy2, then mypy and ruff.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

echo "== installing zkhealth with test extras"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test,fast,chain,docs,dashboard]"

echo "== installing pinned npm tools: snarkjs (tests/js), solc-js, OpenZeppelin and anvil (verifier_contracts)"
npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
# The lock lists every package, anvil's per-platform binaries for every system included, so `npm ci` installs
# exactly what it pins (the binary for this platform; the others are optional and skipped).
npm ci --prefix verifier_contracts --no-audit --no-fund --loglevel=error

run_pytest() {
  # pytest exits 5 when it collected no test: that is a failure here, never a pass.
  set +e
  "$@"
  local status=$?
  set -e
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
  fi
  if [ "$status" -ne 0 ]; then
    exit "$status"
  fi
}

# The whole suite runs under `python -O`: no validation may rely on `assert` (it would vanish there), while
# pytest still rewrites the tests' own asserts.
echo "== pytest under python -O: every tier (native, witness, prove, evm, slow)"
run_pytest "$PYTHON" -O -m pytest -p no:cacheprovider

# The native tier (field, hashes, curves, pairing, MSM, every reader) checks the plain-integer arithmetic; the
# witness tier and slow tests solve whole circuits on that same arithmetic and took 11+ minutes more without gmpy2.
echo "== pytest: the native tier again with plain Python integers (no gmpy2)"
ZKHEALTH_NO_GMPY2=1 run_pytest "$PYTHON" -O -m pytest -p no:cacheprovider -q -m "native and not slow"

echo "== mypy (strict) on src/"
"$PYTHON" -m mypy

echo "== ruff"
"$PYTHON" -m ruff check src tests benchmarks
