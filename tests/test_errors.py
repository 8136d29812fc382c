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
        if cls is errors.ZkHealthError:
            continue
        assert issubclass(cls, builtins), f"{cls.__name__} should also derive from a matching builtin"


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
