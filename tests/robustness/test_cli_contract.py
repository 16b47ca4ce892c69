"""The CLI contract: one line and exit 2 for user errors, tracebacks only with --debug."""

from __future__ import annotations

import pytest

from robustness.helpers import cli_error
from tradeie.cli import main


def test_user_error_is_one_line_exit_2_and_debug_adds_the_traceback(capsys, tmp_path):
    argv = [
        "corpus",
        "build",
        "--seeds",
        tmp_path / "missing",
        "--articles",
        "",
        "--heldout",
        "",
        "--out",
        tmp_path / "c.jsonl",
    ]
    line = cli_error(capsys, argv)
    assert line == f"tradeie: error: {tmp_path / 'missing'}: no .txt files found (fix: put raw article texts there)"
    for position in (0, len(argv)):  # --debug is accepted before or after the command
        debug_argv = [str(a) for a in argv]
        debug_argv.insert(position, "--debug")
        assert main(debug_argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("Traceback (most recent call last):") and err.rstrip().endswith(line)


def test_an_unexpected_error_is_one_line_exit_1_without_debug(capsys, monkeypatch):
    import tradeie.cli.corpus as corpus_command

    def bug(args):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(corpus_command, "run_build", bug)
    line = cli_error(capsys, ["corpus", "build"], code=1)
    assert line == (
        "tradeie: internal error: ZeroDivisionError: division by zero (run again with --debug for the "
        "traceback and report it)"
    )
    assert main(["--debug", "corpus", "build"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_an_os_error_on_a_user_path_is_a_user_error(capsys, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("India signed.", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = cli_error(
        capsys, ["corpus", "build", "--seeds", seeds, "--articles", "", "--heldout", "", "--out", blocker / "c.jsonl"]
    )
    assert line.startswith("tradeie: error: ") and str(blocker) in line


@pytest.mark.parametrize("argv", [["corpus", "frobnicate"], ["train", "ner", "--set"]])
def test_argument_mistakes_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
