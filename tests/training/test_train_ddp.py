"""`torchrun --nproc_per_node=2` on CPU (gloo): both ranks finish, one model is saved.

The relation model is evaluated each epoch on 7 pairs split over 2 ranks (one padded): the type masks still
match the predictions one to one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import torch.distributed as dist
    from tradeie.document import Document
    from tradeie.training.config import NERConfig, REConfig
    from tradeie.training.ner import fit_ner
    from tradeie.training.relation import fit_re

    base, docs_path, out, marks = sys.argv[1:5]
    docs = [Document.from_dict(json.loads(line)) for line in open(docs_path, encoding="utf-8")]
    config = NERConfig(base_model=base, epochs=2, batch_size=4, learning_rate=5e-3, max_length=64, stride=8,
                       seeds=[1, 2], progress_bars=False, logging_steps=1000, early_stopping_patience=1)
    path = fit_ner(docs[:4], docs[4:6], config, Path(out) / "ner")
    re_config = REConfig(base_model=base, epochs=2, batch_size=4, eval_batch_size=2, learning_rate=5e-3, max_length=96,
                         seeds=[1], progress_bars=False, logging_steps=1000, early_stopping_patience=0)
    fit_re(docs[:4], docs[4:5], re_config, Path(out) / "re")
    rank = dist.get_rank()
    Path(marks, f"rank{rank}.json").write_text(json.dumps({
        "rank": rank, "world_size": dist.get_world_size(), "backend": dist.get_backend(),
        "saved": (path / "model.safetensors").exists()}))
""")


def test_torchrun_two_cpu_processes(tmp_path, tiny_model, toy_docs):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT, encoding="utf-8")
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in toy_docs), encoding="utf-8")
    marks = tmp_path / "marks"
    marks.mkdir()
    run = tmp_path / "run"
    env = {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(script),
            str(tiny_model),
            str(docs),
            str(run),
            str(marks),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = sorted((json.loads(p.read_text()) for p in marks.glob("rank*.json")), key=lambda r: r["rank"])
    assert [r["rank"] for r in ranks] == [0, 1]
    assert all(r["world_size"] == 2 and r["backend"] == "gloo" and r["saved"] for r in ranks)
    saved = sorted(p.relative_to(run) for p in run.rglob("model.safetensors"))
    assert [str(p) for p in saved] == ["ner/model.safetensors", "re/model.safetensors"]
    assert sorted(p.name for p in run.iterdir()) == ["ner", "re"]  # no checkpoints or temp folders left
    metrics = json.loads((run / "ner" / "metrics.json").read_text())
    assert metrics["eval"] is not None and [s["seed"] for s in metrics["seeds"]] == [1, 2]
    # real data parallelism: 2 ranks x batch 4 -> one optimiser step per 8 windows
    windows = metrics["train_windows"]
    for run_ in metrics["seeds"]:
        assert run_["steps"] == round(run_["epochs"]) * -(-windows // 8)
    re_metrics = json.loads((run / "re" / "metrics.json").read_text())
    assert re_metrics["eval_documents"] == [toy_docs[4].id] and re_metrics["seeds"][0]["epochs"] == 2.0
