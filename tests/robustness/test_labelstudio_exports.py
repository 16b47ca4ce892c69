"""Label Studio exports: broken or unusual exports are read correctly or refused with one clear line."""

from __future__ import annotations

import json

import pytest

from robustness.helpers import cli_error, ls_task, region, relation, write_json
from tradeie.annotations.gold import validate
from tradeie.errors import TradeieError
from tradeie.labelstudio.format import read_export

TEXT = "India and the U.S. signed a critical minerals agreement."


def _validate_cli(capsys, tmp_path, payload) -> str:
    path = payload if not isinstance(payload, (list, dict)) else write_json(tmp_path / "export.json", payload)
    return cli_error(capsys, ["annotations", "agreement", path, path])


def test_truncated_json(capsys, tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([ls_task(TEXT, [region("a", TEXT, 0, 5, "ACTOR")])])[:-7], encoding="utf-8")
    line = _validate_cli(capsys, tmp_path, path)
    assert line.startswith(f"tradeie: error: {path}: invalid JSON at line 1 column ")
    assert "export the project again as JSON" in line


def test_object_or_list_at_top_level(tmp_path):
    task = ls_task(TEXT, [region("a", TEXT, 0, 5, "ACTOR")])
    one = read_export(write_json(tmp_path / "one.json", task)).documents
    many = read_export(write_json(tmp_path / "many.json", [task])).documents
    assert [(d.id, [e.key for e in d.entities]) for d in one] == [("doc", [(0, 5, "ACTOR")])]
    assert [(d.id, [e.key for e in d.entities]) for d in many] == [("doc", [(0, 5, "ACTOR")])]
    with pytest.raises(TradeieError, match="expected a list of Label Studio tasks"):
        read_export(write_json(tmp_path / "strings.json", ["a", "b"]))


def test_missing_data_text(tmp_path):
    with pytest.raises(TradeieError, match=r"task 1 \(doc\): cannot tell which data field holds the text"):
        read_export([{"id": 1, "data": {"doc_id": "doc", "body": "x", "title": "y"}, "annotations": []}])
    with pytest.raises(TradeieError, match=r"task 1 \(task-1\): task has no 'data' object"):
        read_export([{"id": 1, "annotations": []}])


def test_region_text_that_does_not_match_its_offsets(tmp_path):
    task = ls_task(TEXT, [region("r1", TEXT, 0, 5, "ACTOR", surface="China")])
    with pytest.raises(TradeieError) as exc:
        read_export([task], name="export.json")
    assert str(exc.value) == (
        "export.json: task 1 (doc), annotation 11, region r1: offsets [0:5] select 'India' but the region says "
        "'China' (fix: the task text changed after annotation, or the offsets are wrong; fix the region in "
        "Label Studio)"
    )


def test_offsets_out_of_range():
    task = ls_task(TEXT, [region("r1", TEXT, 50, 90, "ACTOR", surface=None)])
    with pytest.raises(TradeieError, match=r"region r1: offsets \[50:90\] outside the text \(length 56\)"):
        read_export([task])


def test_overlapping_regions_unknown_labels_missing_region_forbidden_signature():
    result = [
        region("a", TEXT, 0, 5, "ACTOR"),
        region("b", TEXT, 0, 18, "ACTOR"),
        region("c", TEXT, 19, 25, "COUNTRY"),
        region("d", TEXT, 28, 55, "AGREEMENT"),
        relation("a", "zz", "party_to"),
        relation("d", "a", "party_to"),
    ]
    report = validate(read_export([ls_task(TEXT, result)]).documents)
    assert report.errors == [
        "document doc, entity b [0:18] 'India and the U.S.': overlaps entity a [0:5] 'India' "
        "(fix: spans must not overlap)",
        "document doc, entity c [19:25] 'signed': unknown entity label 'COUNTRY' (fix: use one of ACTOR, AGREEMENT, "
        "TARIFF; a span with an unknown label cannot be tagged or scored)",
        "document doc, relation a -party_to-> zz: refers to unknown entity id 'zz' "
        "(fix: re-draw the relation between existing entities)",
        "document doc, relation d -party_to-> a: AGREEMENT -> ACTOR is not allowed by the schema; party_to links "
        "ACTOR -> AGREEMENT ('critical minerals agreement' -> 'India') (fix: swap head and tail, or choose another "
        "relation)",
    ]


def _validate(capsys, *argv) -> tuple[int, list[str], list[str]]:
    """``tradeie annotations validate ARGV``: (exit code, stdout lines, stderr lines)."""
    from tradeie.cli import main

    capsys.readouterr()
    code = main(["annotations", "validate", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def test_validate_cli_prints_one_line_per_finding_and_exits_2(capsys, tmp_path):
    other = "India agreed."
    tasks = [
        ls_task(TEXT, [region("a", TEXT, 0, 5, "ACTOR"), relation("a", "zz", "party_to")]),
        ls_task(other, [], doc_id="doc2", task_id=2),
    ]
    path = write_json(tmp_path / "gold.json", tasks)
    corpus = tmp_path / "documents.jsonl"
    corpus.write_text(
        json.dumps({"id": "doc", "text": TEXT}) + "\n" + json.dumps({"id": "doc2", "text": other}) + "\n",
        encoding="utf-8",
    )
    error = (
        f"error: {path}: task 1 (doc): relation a -party_to-> zz: refers to unknown entity id 'zz' "
        "(fix: re-draw the relation between existing entities)"
    )
    warning = (
        f"warning: {path}: task 2 (doc2): text [0:5] 'India': annotated ACTOR elsewhere but not here "
        "(fix: annotate it here too if it is a mention)"
    )
    code, out, err = _validate(capsys, path, "--corpus", corpus)
    assert code == 2
    assert [line for line in out if line.startswith(("error:", "warning:"))] == [error]
    assert out[-1] == "1 errors, 1 consistency warnings (--show-warnings lists them)"
    assert err == [
        f"tradeie: error: {path}: 1 error(s) in the annotations, one per line above "
        "(fix: fix each as its line says, then run `tradeie annotations validate` again)"
    ]
    code, out, _ = _validate(capsys, path, "--corpus", corpus, "--show-warnings")
    assert code == 2 and [line for line in out if line.startswith(("error:", "warning:"))] == [error, warning]

    tasks[0]["annotations"][0]["result"].pop()  # the relation to a missing region: only the warning is left
    write_json(path, tasks)
    code, out, err = _validate(capsys, path, "--corpus", corpus, "--show-warnings")
    assert (code, err) == (0, []) and [line for line in out if line.startswith("warning:")] == [warning]
    code, out, err = _validate(capsys, path, "--corpus", corpus, "--strict")
    assert code == 2 and err == [
        f"tradeie: error: {path}: 1 warning(s) (--strict) in the annotations, one per line above "
        "(fix: fix each as its line says, then run `tradeie annotations validate` again)"
    ]


def test_cancelled_annotations_are_skipped():
    task = ls_task(TEXT, [region("a", TEXT, 0, 5, "ACTOR")])
    task["annotations"].append(
        {"id": 99, "was_cancelled": True, "updated_at": "2099-01-01", "result": [region("x", TEXT, 10, 18, "ACTOR")]}
    )
    export = read_export([task])
    assert [e.key for e in export.documents[0].entities] == [(0, 5, "ACTOR")]
    assert len(export.all_annotations["doc"]) == 1
    cancelled_only = {
        "id": 2,
        "data": {"text": TEXT, "doc_id": "d2"},
        "annotations": [{"id": 5, "was_cancelled": True, "result": []}],
    }
    doc = read_export([cancelled_only]).documents[0]
    assert doc.entities == () and doc.meta["annotation_choice"] == "no non-cancelled annotation"


def test_several_annotators_on_one_task():
    task = ls_task(TEXT, [region("a", TEXT, 0, 5, "ACTOR")], completed_by=1, updated_at="2026-01-01T00:00:00Z")
    task["annotations"].append(
        {
            "id": 20,
            "completed_by": 2,
            "updated_at": "2026-02-01T00:00:00Z",
            "result": [region("b", TEXT, 14, 18, "ACTOR")],
        }
    )
    export = read_export([task])
    assert [e.key for e in export.documents[0].entities] == [(14, 18, "ACTOR")]  # the latest
    assert export.documents[0].meta["annotation_choice"] == "latest of 2 annotations (20)"
    assert len(export.all_annotations["doc"]) == 2
    task["annotations"][0]["ground_truth"] = True
    assert [e.key for e in read_export([task]).documents[0].entities] == [(0, 5, "ACTOR")]


@pytest.mark.parametrize("prefix", ["😀 ", "🇮🇳🇺🇸 ", "e\u0301 𝔘𝔖 "])
def test_non_bmp_characters_before_a_span(prefix):
    text = prefix + TEXT
    start = len(prefix)  # code points
    utf16 = len(prefix.encode("utf-16-le")) // 2
    ok = read_export([ls_task(text, [region("a", text, start, start + 5, "ACTOR")])])
    assert ok.warnings == [] and ok.documents[0].entities[0].text == "India"
    converted = read_export([ls_task(text, [region("a", text, utf16, utf16 + 5, "ACTOR", surface="India")])])
    assert converted.documents[0].entities[0].key == (start, start + 5, "ACTOR")
    assert converted.warnings == [
        f"<tasks>: task 1 (doc), annotation 11, region a: UTF-16 offsets "
        f"[{utf16}:{utf16 + 5}] converted to code points [{start}:{start + 5}]"
    ]


def test_relation_directions_are_normalised():
    text = "India signed the agreement."
    result = [
        region("a", text, 0, 5, "ACTOR"),
        region("b", text, 17, 26, "AGREEMENT"),
        relation("b", "a", "party_to", direction="left"),
    ]
    doc = read_export([ls_task(text, result)]).documents[0]
    assert [(r.head, r.tail, r.label) for r in doc.relations] == [("a", "b", "party_to")]
