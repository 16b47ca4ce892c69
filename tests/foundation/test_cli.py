import json
import os
import subprocess
import sys


from tradeie.cli import main


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "tradeie.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_help_lists_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("corpus", "annotations"):
        assert command in out.stdout


def test_corpus_build_and_validate(tmp_path, repo_root, capsys):
    out = tmp_path / "documents.jsonl"
    assert (
        main(
            [
                "corpus",
                "build",
                "--seeds",
                str(repo_root / "seeds"),
                "--articles",
                str(repo_root / "corpus" / "articles"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["origin"] for r in rows].count("real-news") == 4
    assert [r["origin"] for r in rows].count("written-for-dataset") == 16
    assert main(["annotations", "validate", str(repo_root / "annotations" / "gold"), "--corpus", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0 errors" in printed and "total" in printed and "party_to" in printed


def test_user_error_is_one_line_without_traceback(tmp_path):
    result = run_cli("corpus", "build", "--seeds", str(tmp_path / "missing"), "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2
    assert result.stderr.startswith("tradeie: error:") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.jsonl").exists()


def test_validate_fails_on_broken_gold(tmp_path, repo_root, seed_corpus):
    corpus_path, _ = seed_corpus
    tasks = json.loads(next((repo_root / "annotations" / "gold").glob("*.json")).read_text())
    tasks[0]["annotations"][0]["result"][0]["value"]["labels"] = ["PERSON"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tasks))
    result = run_cli("annotations", "validate", str(bad), "--corpus", str(corpus_path))
    assert result.returncode == 2
    region = tasks[0]["annotations"][0]["result"][0]
    start, end = region["value"]["start"], region["value"]["end"]
    where = f"error: {bad}: task 0 ({tasks[0]['data']['doc_id']}): "
    lines = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert lines[0] == (
        f"{where}entity {region['id']} [{start}:{end}] {region['value']['text']!r}: unknown entity label 'PERSON' "
        "(fix: use one of ACTOR, AGREEMENT, TARIFF; a span with an unknown label cannot be tagged or scored)"
    )
    assert all(line.startswith(where) for line in lines)  # and its relations now break their type signature
    assert result.stderr.startswith(f"tradeie: error: {bad}: {len(lines)} error(s) in the annotations")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_agreement_command(tmp_path, repo_root):
    out = tmp_path / "agreement.json"
    passes = repo_root / "annotations" / "passes"
    assert (
        main(
            [
                "annotations",
                "agreement",
                str(passes / "pass_a.labelstudio.json"),
                str(passes / "pass_b.labelstudio.json"),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    figures = json.loads(out.read_text())
    assert 0.9 < figures["token_kappa"] <= 1.0
    assert figures == json.loads((passes / "agreement_a_vs_b.json").read_text())
