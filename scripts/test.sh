#!/usr/bin/env bash
# Run the whole zkhealth test suite from a fresh checkout: install the package with its test extras and the
# pinned npm tools (snarkjs, solc-js, OpenZeppelin, anvil) the suite checks us against, then run every tier (the
# dashboard's browser tests included: they need Chromium, which .ci/run installs from Debian packages) under
# `python -O` (asserts stripped); alongside it, on the other core, the native tier again without gmpy2, mypy, ruff,
# then a second shard of the main pass (the heaviest test files, listed in HEAVY below).
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

# The second pass and the static checks run on one core while the main pass runs: most of the main pass is one
# Python process, so the second core is idle for most of it. After them, that core runs the heaviest test files
# (HEAVY: mutation runs, the snarkjs-mixed ceremony, the FHIR corpus, the installed-package tour, the demo, and
# every test that needs the universal circuit's proving key, which a fresh machine rebuilds once per shard in about
# 45 s; about 14 of the main pass's 33 minutes, chosen so both cores finish together) as a
# second shard of the main pass, also under `python -O`; the first shard skips them (--ignore), so every test runs
# once. Their output goes to a log that is printed, whole, after the main pass;
# each keeps its exit code.
HEAVY=(
  tests/test_circuit_mutation.py
  tests/test_ceremony_transcript.py
  tests/test_fhir_corpus.py
  tests/test_tour.py
  tests/test_demo.py
  tests/test_chain_universal.py
  tests/test_cli_universal.py
  tests/test_demo_dao.py
)
ignore_heavy=()
for path in "${HEAVY[@]}"; do
  [ -f "$path" ] || { echo "scripts/test.sh: HEAVY lists $path, which does not exist" >&2; exit 1; }
  ignore_heavy+=("--ignore=$path")
done
side_log=$(mktemp -t zkhealth-side.XXXXXX)
side_base=$(mktemp -d -t zkhealth-side-pytest.XXXXXX)
(
  set +e
  # The native tier (field, hashes, curves, pairing, MSM, every reader) checks the plain-integer arithmetic; the
  # witness tier and slow tests solve whole circuits on that same arithmetic and took 11+ minutes more without gmpy2.
  echo "== pytest: the native tier again with plain Python integers (no gmpy2)"
  ZKHEALTH_NO_GMPY2=1 nice -n 5 "$PYTHON" -O -m pytest -p no:cacheprovider -q -m "native and not slow" \
    --basetemp="$side_base/pytest"
  status=$?
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
  fi
  [ "$status" -eq 0 ] || exit "$status"
  echo "== mypy (strict) on src/"
  nice -n 5 "$PYTHON" -m mypy || exit $?
  echo "== ruff"
  "$PYTHON" -m ruff check src tests benchmarks || exit $?
  echo "== pytest under python -O, second shard: ${HEAVY[*]}"
  "$PYTHON" -O -m pytest -p no:cacheprovider --durations=10 --basetemp="$side_base/heavy" "${HEAVY[@]}"
  status=$?
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests in the second shard: failing" >&2
    exit 1
  fi
  exit "$status"
) >"$side_log" 2>&1 &
side_pid=$!

# The whole suite runs under `python -O`: no validation may rely on `assert` (it would vanish there), while
# pytest still rewrites the tests' own asserts. Both shards print their slowest tests (--durations), the figures
# for keeping HEAVY balanced against the first shard.
echo "== pytest under python -O: every tier (native, witness, prove, evm, slow), first shard (all but HEAVY)"
set +e
"$PYTHON" -O -m pytest -p no:cacheprovider --durations=25 "${ignore_heavy[@]}"
main_status=$?
set -e

set +e
wait "$side_pid"
side_status=$?
set -e
cat "$side_log"
rm -rf "$side_log" "$side_base"

if [ "$main_status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
if [ "$main_status" -ne 0 ]; then
  echo "the main pytest pass failed (exit $main_status)" >&2
  exit "$main_status"
fi
if [ "$side_status" -ne 0 ]; then
  echo "the plain-integer pass, the static checks or the second shard failed (exit $side_status): see above" >&2
  exit "$side_status"
fi
echo "== all passes green"
