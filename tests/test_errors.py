"""zkhealth.errors: one root, and every class also catchable as the builtin a caller expects."""

from __future__ import annotations

import inspect

import pytest

from zkhealth import errors

pytestmark = pytest.mark.native


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    ]


def test_every_error_derives_from_the_root() -> None:
    classes = _error_classes()
    assert len(classes) > 20
    for cls in classes:
        assert issubclass(cls, errors.ZkHealthError), cls


def test_every_subclass_also_derives_from_a_builtin() -> None:
    builtins = (ValueError, TypeError, RuntimeError, LookupError, OSError)
    for cls in _error_classes():
        if cls in (errors.ZkHealthError, errors.MalformedInputError, errors.RefusedError):
            continue
        assert issubclass(cls, builtins), f"{cls.__name__} should also derive from a matching builtin"


def test_the_two_markers_decide_the_exit_code_in_one_place() -> None:
    from zkhealth.cli import EXIT_ERROR, EXIT_MALFORMED, EXIT_REFUSED, exit_code_for

    for cls in _error_classes():
        code = exit_code_for(cls.__new__(cls))
        if issubclass(cls, errors.MalformedInputError):
            assert code == EXIT_MALFORMED, cls
        elif issubclass(cls, errors.RefusedError):
            assert code == EXIT_REFUSED, cls
        else:
            assert code == EXIT_ERROR, cls
    assert exit_code_for(errors.MalformedProofError("x")) == EXIT_MALFORMED
    assert exit_code_for(errors.InvalidProofError("x")) == EXIT_REFUSED
    assert exit_code_for(errors.WorkerError("x")) == EXIT_ERROR
    assert exit_code_for(FileNotFoundError("x")) == EXIT_MALFORMED
    # a class under both markers counts as malformed (a signature point off the curve)
    both = errors.SignaturePointNotOnCurveError
    assert issubclass(both, errors.RefusedError) and exit_code_for(both("x")) == EXIT_MALFORMED


def test_worker_errors_join_the_tree() -> None:
    from zkhealth.hazmat import parallel

    assert parallel.WorkerError is errors.WorkerError
    assert issubclass(errors.WorkerError, errors.ZkHealthError) and issubclass(errors.WorkerError, RuntimeError)


def test_malformed_and_invalid_proofs_are_distinct() -> None:
    assert not issubclass(errors.InvalidProofError, errors.MalformedProofError)
    assert not issubclass(errors.MalformedProofError, errors.InvalidProofError)
    assert issubclass(errors.PublicInputOutOfRangeError, errors.MalformedProofError)


def test_structured_fields() -> None:
    err = errors.PublicInputOutOfRangeError("input 0 is not below r", index=0)
    assert err.index == 0
    with pytest.raises(ValueError):
        raise err
    count = errors.PublicInputCountError("bad count", expected=6, got=5)
    assert (count.expected, count.got) == (6, 5)
    syntax = errors.CriteriaSyntaxError("unexpected token", column=7, text="age >= ")
    assert syntax.column == 7
