"""The circuit author's verbs: ``compile``, ``info``, ``r1cs export|info`` and ``wtns calculate``.

Each verb's output file is read back with the format readers and compared with what the library compiles
or solves directly; each refusal exits with the documented code.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zkhealth.circuit import compile as compile_circuit
from zkhealth.cli import EXIT_ERROR, EXIT_MALFORMED, EXIT_OK, main
from zkhealth.cli.circuit import load_circuit
from zkhealth.formats.r1cs_file import read_r1cs
from zkhealth.formats.wtns_file import read_wtns

pytestmark = pytest.mark.witness

ROOT = Path(__file__).resolve().parent.parent
CUBIC = ROOT / "circuits" / "examples" / "cubic.py"
ADULT = ROOT / "circuits" / "examples" / "adult.py"


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, catch_exceptions=False, prog_name="zkhealth")


def ok(args: list[str]) -> Result:
    result = invoke(args)
    assert result.exit_code == EXIT_OK, result.output + result.stderr
    return result


def as_json(args: list[str]) -> Any:
    return json.loads(ok(["--json", *args]).stdout)


def _rows(r1cs: Any) -> list[tuple[Any, Any, Any]]:
    """The constraints without their labels (the .r1cs format stores no scope labels)."""
    return [(c.a, c.b, c.c) for c in r1cs.constraints]


def _compiled(path: Path, name: str) -> Any:
    circuit, _ = load_circuit(f"{path}:{name}")
    return compile_circuit(circuit, name=name)


def test_compile_writes_the_same_r1cs_the_library_builds(tmp_path: Path) -> None:
    payload = as_json(["compile", f"{ADULT}:adult", "--out", str(tmp_path / "build")])
    written = read_r1cs(tmp_path / "build" / "adult.r1cs")
    expected = _compiled(ADULT, "adult").r1cs
    assert _rows(written) == _rows(expected)
    assert (written.n_wires, written.n_public_inputs, written.n_private_inputs) == (
        expected.n_wires, expected.n_public_inputs, expected.n_private_inputs
    )
    assert payload["constraints"] == expected.n_constraints == 64
    assert payload["r1cs"] == str(tmp_path / "build" / "adult.r1cs")


def test_compile_without_optimisation_keeps_linear_constraints(tmp_path: Path) -> None:
    optimised = as_json(["compile", f"{CUBIC}:cubic", "--out", str(tmp_path)])
    plain = as_json(["compile", f"{CUBIC}:cubic", "--out", str(tmp_path / "o0"), "--no-optimize"])
    assert optimised["constraints"] == 2
    assert plain["constraints"] == plain["constraints_before_elimination"] >= optimised["constraints"]


def test_info_reports_constraints_per_scope() -> None:
    payload = as_json(["info", f"{ADULT}:adult"])
    scopes = {row["path"]: row["after"] for row in payload["scopes"]}
    assert scopes["adult"] == payload["constraints"] == 64
    assert scopes["adult/age/greater_eq/range_check"] == 32
    assert payload["public_input_names"] == ["today"] and payload["private_input_names"] == ["birth_date"]
    shallow = as_json(["info", f"{ADULT}:adult", "--depth", "1"])
    assert [row["path"] for row in shallow["scopes"]] == ["adult"]
    text = ok(["info", f"{ADULT}:adult"]).stdout
    assert "range_check" in text and "public inputs:   today" in text


def test_info_defaults_to_define(tmp_path: Path) -> None:
    source = tmp_path / "square.py"
    source.write_text(textwrap.dedent("""
        def define(b):
            x = b.private_input("x")
            b.output("y", x * x)
    """))
    assert as_json(["info", str(source)])["constraints"] == 1


def test_r1cs_export_and_info(tmp_path: Path) -> None:
    out = tmp_path / "cubic.r1cs"
    ok(["r1cs", "export", f"{CUBIC}:cubic", str(out)])
    assert _rows(read_r1cs(out)) == _rows(_compiled(CUBIC, "cubic").r1cs)
    info = as_json(["r1cs", "info", str(out)])
    assert info == {"r1cs": str(out), "constraints": 2, "wires": 4, "public_outputs": 1, "public_inputs": 0,
                    "private_inputs": 1}


def test_r1cs_info_refuses_a_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.r1cs"
    bad.write_bytes(b"r1cs" + b"\x01\x00\x00\x00" + b"\xff" * 20)
    result = invoke(["r1cs", "info", str(bad)])
    assert result.exit_code == EXIT_MALFORMED
    assert result.stderr.startswith("error: R1csFormatError:")


def test_wtns_calculate_matches_the_solver(tmp_path: Path) -> None:
    inputs = tmp_path / "input.json"
    inputs.write_text('{"x": "3"}')
    out = tmp_path / "cubic.wtns"
    payload = as_json(["wtns", "calculate", f"{CUBIC}:cubic", str(inputs), str(out)])
    assert payload["public_signals"] == ["35"]
    assert read_wtns(out) == _compiled(CUBIC, "cubic").solve_witness({"x": 3})


def test_wtns_calculate_refuses_failing_and_malformed_inputs(tmp_path: Path) -> None:
    minor = tmp_path / "minor.json"
    minor.write_text('{"today": 20000, "birth_date": 19000}')
    result = invoke(["wtns", "calculate", f"{ADULT}:adult", str(minor), str(tmp_path / "w.wtns")])
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.startswith("error: UnsatisfiedConstraintError:") and "adult/age" in result.stderr
    assert not (tmp_path / "w.wtns").exists()
    for text, error in (('{"x": "03"}', "WitnessError"), ('{"x": 1, "x": 2}', "EncodingError"),
                        ("[3]", "EncodingError")):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        result = invoke(["wtns", "calculate", f"{CUBIC}:cubic", str(bad), str(tmp_path / "w.wtns")])
        assert result.exit_code in (EXIT_MALFORMED, EXIT_ERROR)
        assert result.stderr.startswith(f"error: {error}:"), result.stderr


@pytest.mark.parametrize(
    "spec",
    [f"{CUBIC}:nope", f"{CUBIC}", "missing_file.py:define", f"{CUBIC}:ADULT_AGE_DAYS", ":define"],
)
def test_bad_circuit_names_are_usage_errors(spec: str) -> None:
    result = invoke(["info", spec])
    assert result.exit_code == EXIT_MALFORMED
    assert "Traceback" not in result.output


def test_a_circuit_file_that_fails_to_import(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def define(b):\n    return (\n")
    result = invoke(["compile", f"{broken}:define", "--out", str(tmp_path)])
    assert result.exit_code == EXIT_MALFORMED and "SyntaxError" in result.stderr
    with pytest.raises(SyntaxError):
        CliRunner().invoke(main, ["--debug", "info", f"{broken}:define"], catch_exceptions=False)


def test_lint_errors_stop_compilation_and_warnings_are_shown(tmp_path: Path) -> None:
    source = tmp_path / "lints.py"
    source.write_text(textwrap.dedent("""
        def unused_public(b):
            b.public_input("ignored")
            x = b.private_input("x")
            b.output("y", x * x)

        def unused_private(b):
            b.private_input("unused")
            x = b.private_input("x")
            b.output("y", x * x)
    """))
    result = invoke(["compile", f"{source}:unused_public", "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.startswith("error: UnusedPublicInputError:")
    assert not (tmp_path / "out" / "unused_public.r1cs").exists()
    warned = invoke(["compile", f"{source}:unused_private", "--out", str(tmp_path / "out")])
    assert warned.exit_code == EXIT_OK
    assert "warning: UnusedPrivateInputWarning:" in warned.stderr
