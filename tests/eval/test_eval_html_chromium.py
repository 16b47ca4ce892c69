"""The HTML report rendered in headless Chromium: highlighted gold and predicted spans are present.

Needs the Debian packages ``chromium`` and ``chromium-driver``
(``apt-get install -y chromium chromium-driver``); skipped with that reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from tradeie.evaluation.evaluate import pair_documents
from tradeie.evaluation.report import render_html

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium chromium-driver)"
)

#: Added to a copy of the report: records each mark's computed style so the test sees what Chromium drew.
PROBE = """<script>
for (const m of document.querySelectorAll('section.doc mark')) {
  const s = getComputedStyle(m);
  m.dataset.outline = s.outlineStyle;
  m.dataset.background = s.backgroundColor;
  m.dataset.labelShown = getComputedStyle(m, '::after').content;
}
document.body.dataset.probed = 'yes';
</script>"""


class _Marks(HTMLParser):
    """Collects <mark> elements (attributes + text) per document section and pane."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[dict] = []
        self.pane_text: dict[tuple[str, str], list[str]] = {}
        self.relation_rows: list[tuple[str, str]] = []
        self._doc = self._side = None
        self._mark: dict | None = None
        self._in_text = False
        self._depth = 0
        self._row: list[str] | None = None
        self._row_doc = None
        self.body: dict = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "section" and "data-doc" in a:
            self._doc = a["data-doc"]
        if tag == "div" and "data-side" in a:
            self._side = a["data-side"]
        if tag == "div" and a.get("class") == "text":
            self._in_text, self._depth = True, 0
        elif tag == "div" and self._in_text:
            self._depth += 1
        if tag == "mark" and self._in_text:
            self._mark = {**a, "doc": self._doc, "side": self._side, "text": ""}
        if tag == "tr" and "data-kind" in a:
            self._row, self._row_doc = [], self._doc

    def handle_endtag(self, tag):
        if tag == "mark" and self._mark is not None:
            self.marks.append(self._mark)
            self._mark = None
        if tag == "div" and self._in_text:
            if self._depth == 0:
                self._in_text = False
            else:
                self._depth -= 1
        if tag == "tr" and self._row is not None:
            self.relation_rows.append((self._row_doc, " | ".join(self._row)))
            self._row = None

    def handle_data(self, data):
        if self._in_text:
            self.pane_text.setdefault((self._doc, self._side), []).append(data)
        if self._mark is not None:
            self._mark["text"] += data
        if self._row is not None and data.strip():
            self._row.append(data.strip())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, golden_gold, golden_pred, golden_metrics):
    html = render_html(golden_metrics, golden_gold, golden_pred, title="chromium check")
    folder = tmp_path_factory.mktemp("html")
    page = folder / "report.html"
    page.write_text(html.replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={folder / 'profile'}",
        "--dump-dom",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    parser = _Marks()
    parser.feed(proc.stdout)
    assert parser.body.get("data-probed") == "yes", "the page did not run in Chromium"
    return parser


def _mark(parser, doc_id, side, text, start=None):
    found = [
        m
        for m in parser.marks
        if m["doc"] == doc_id
        and m["side"] == side
        and m["text"] == text
        and (start is None or int(m["data-start"]) == start)
    ]
    assert len(found) == 1, (doc_id, side, text, found)
    return found[0]


D0, D3 = "000_d9c588e8c1f3d674", "003_e3ef4ffb2eb5a43a"


def test_every_span_is_highlighted_and_the_text_is_intact(rendered, golden_gold, golden_pred):
    preds = pair_documents(golden_gold, golden_pred)
    for gold, pred in zip(golden_gold, preds):
        for side, doc in (("gold", gold), ("pred", pred)):
            marks = [m for m in rendered.marks if m["doc"] == gold.id and m["side"] == side]
            assert sorted((int(m["data-start"]), int(m["data-end"]), m["data-label"]) for m in marks) == sorted(
                e.key for e in doc.entities
            ), (gold.id, side)
            assert all(m["text"] == doc.text[int(m["data-start"]) : int(m["data-end"])] for m in marks)
            assert "".join(rendered.pane_text[(gold.id, side)]) == doc.text


def test_correct_spans_are_filled_with_the_label_colour(rendered):
    for side in ("gold", "pred"):
        m = _mark(rendered, D0, side, "US", start=0)
        assert (m["data-status"], m["data-error"]) == ("correct", "tp")
        assert m["data-background"] not in ("rgba(0, 0, 0, 0)", "transparent")
        assert m["data-outline"] == "none"
        assert m["data-label-shown"] == '"ACTOR"'


def test_boundary_errors(rendered):
    gold = _mark(rendered, D0, "gold", "critical minerals agreement", start=105)
    pred = _mark(rendered, D0, "pred", "minerals agreement", start=114)
    assert (gold["data-status"], gold["data-error"]) == ("boundary", "fn")
    assert (pred["data-status"], pred["data-error"]) == ("boundary", "fp")
    assert gold["data-outline"] == pred["data-outline"] == "dotted"
    assert "minerals agreement" in gold["title"]


def test_type_errors_are_told_apart_from_boundary_errors(rendered):
    gold = _mark(rendered, D0, "gold", "Washington")
    pred = _mark(rendered, D0, "pred", "Washington")
    assert (gold["data-status"], gold["data-label"], pred["data-label"]) == ("type", "ACTOR", "AGREEMENT")
    assert pred["data-error"] == "fp" and gold["data-error"] == "fn"
    assert gold["data-outline"] == "double"
    both = _mark(rendered, D0, "pred", "trade agreement")
    assert (both["data-status"], both["data-label"]) == ("boundary_type", "TARIFF")


def test_false_positives_and_false_negatives_are_marked(rendered):
    spurious = _mark(rendered, D0, "pred", "Friday")
    missed = _mark(rendered, D0, "gold", "Gor", start=315)
    assert (spurious["data-status"], spurious["data-error"], spurious["data-outline"]) == ("spurious", "fp", "dashed")
    assert (missed["data-status"], missed["data-error"], missed["data-outline"]) == ("missed", "fn", "dashed")
    tuesday = _mark(rendered, "empty_gold", "pred", "Tuesday")
    assert tuesday["data-status"] == "spurious"
    assert not [m for m in rendered.marks if m["doc"] == "empty_gold" and m["side"] == "gold"]


def test_relations_listed_head_label_tail(rendered):
    rows = [text for doc, text in rendered.relation_rows if doc == D3]
    assert (
        "wrong_label | Marco Rubio [ACTOR] -> party_to -> agreement [AGREEMENT] | "
        "Marco Rubio [ACTOR] -> imposes -> agreement [AGREEMENT]" in rows
    )
    assert "missed | S. Jaishankar [ACTOR] -> party_to -> agreement [AGREEMENT]" in rows
    assert any(
        r.startswith("correct | India [ACTOR] -> party_to -> critical minerals framework agreement") for r in rows
    )
    d0 = [text for doc, text in rendered.relation_rows if doc == D0]
    assert any(r.startswith("argument_boundary | Washington") for r in d0)
