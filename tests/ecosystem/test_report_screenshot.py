"""The HTML report in headless Chromium: a screenshot, and the plots (inline PNG data URIs) and tables drawn."""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
DATA = Path(__file__).resolve().parents[1] / "eval" / "data"

#: Records, after load, what Chromium drew: each image's decoded size and each table's rows.
PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images].map(i => ({alt: i.alt, w: i.naturalWidth, h: i.naturalHeight,
                                               shown: i.getBoundingClientRect().width,
                                               data: i.src.startsWith('data:image/png;base64,')}));
  const tables = [...document.querySelectorAll('table')].map(t => t.rows.length);
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify({imgs, tables});
  document.body.appendChild(pre);
});
</script>"""


def _chromium(folder: Path, *args: str) -> subprocess.CompletedProcess:
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
        "--hide-scrollbars",
        f"--user-data-dir={folder / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from tradeie.evaluation.evaluate import evaluate_documents, load_gold_file, load_predictions
    from tradeie.evaluation.report import write_report

    gold, pred = load_gold_file(DATA / "gold.jsonl"), load_predictions(DATA / "preds.jsonl")
    metrics = evaluate_documents(gold, pred, n_resamples=50, seed=7)
    out = tmp_path_factory.mktemp("report") / "eval"
    write_report(out, metrics, gold, pred, title="screenshot")
    return out


def test_report_screenshot_shows_plots_and_tables(report, tmp_path):
    html = (report / "report.html").read_text(encoding="utf-8")
    # the PNG plots written beside the report are the ones inlined in it
    for name in ("per_label_f1.png", "confusion_matrix.png"):
        uri = "data:image/png;base64," + base64.b64encode((report / name).read_bytes()).decode("ascii")
        assert uri in html
    assert "<img" in html and 'src="per_label_f1.png"' not in html  # nothing loaded from disk
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _png_size(shot.read_bytes()) == (1280, 2400)
    dom = _chromium(tmp_path, "--dump-dom", "--virtual-time-budget=5000", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    probe = json.loads(dom.stdout.split('<pre id="probe">')[1].split("</pre>")[0].replace("&quot;", '"'))
    imgs = {i["alt"]: i for i in probe["imgs"]}
    assert set(imgs) == {"per_label", "confusion"}
    for alt, name in (("per_label", "per_label_f1.png"), ("confusion", "confusion_matrix.png")):
        assert imgs[alt]["data"] is True
        assert (imgs[alt]["w"], imgs[alt]["h"]) == _png_size((report / name).read_bytes())  # decoded, not broken
        assert imgs[alt]["shown"] > 0
    # every table of the source is laid out with all its rows
    expected_rows = [part.split("</table>")[0].count("<tr") for part in html.split("<table")[1:]]
    assert probe["tables"] == expected_rows
    assert len(expected_rows) >= 2 and min(expected_rows) >= 2
