#!/usr/bin/env bash
# The full mutation run of our circuits (CI's slow tier runs a sample; see tests/test_circuit_mutation.py):
# every mutant of the gadget modules against each module's tests, every mutant of the dedicated eligibility
# circuit (dedicated.py, credential_core.py, calendar.py) against the eligibility tests, and every mutant of the
# version-2 criteria circuits (dedicated.py) against their tests. Fails below 100% of the non-equivalent
# mutants. About two and a half hours on a 2-core machine. Equivalent mutants are keyed by scope and statement
# (tests/equivalent_mutants.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

echo "== gadget modules"
PINNED=tests/test_circuit_assurance.py::test_gadget_verdict_is_pinned
"$PYTHON" -m zkhealth circuit mutate --gadgets --tests "tests/test_gadgets_basic.py $PINNED" \
  --tests-for basic.py="tests/test_gadgets_basic.py tests/test_security_circuit.py $PINNED" \
  --tests-for bits.py="tests/test_gadgets_basic.py tests/test_security_circuit.py $PINNED" \
  --tests-for comparators.py="tests/test_gadgets_basic.py tests/test_security_circuit.py $PINNED" \
  --tests-for poseidon.py="tests/test_gadgets_poseidon.py $PINNED" \
  --tests-for merkle.py="tests/test_gadgets_merkle.py $PINNED" \
  --tests-for babyjubjub.py="tests/test_gadgets_babyjubjub.py $PINNED" \
  --tests-for eddsa.py="tests/test_gadgets_eddsa.py $PINNED" \
  --tests-for sorted_set.py="tests/test_gadgets_sorted_set.py $PINNED" \
  --equivalent tests/equivalent_mutants.txt --min-score 100

echo "== dedicated eligibility circuit and criteria circuits (version 2)"
ZKHEALTH_MUTATION_FULL=1 "$PYTHON" -m pytest -p no:cacheprovider -q -m slow \
  tests/test_circuit_mutation.py -k "eligibility or criteria"
