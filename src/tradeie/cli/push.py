"""``tradeie push model RUN --repo-id OWNER/NAME``: a trained run to a Hub model repository."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser(
        "push",
        help="upload a trained run to the Hugging Face Hub",
        description="Publish trained models. Datasets: `tradeie dataset push`.",
    )
    cmds = group.add_subparsers(dest="push_command", metavar="WHAT", required=True)
    model = cmds.add_parser(
        "model",
        help="upload a run folder (ner/, re/ ...) to a model repository in one commit",
        description="Upload RUN (weights, tokenizer, config.json, training config and metrics of each member, "
        "the spaCy pipeline the members need, and a model card with model-index results that says "
        "which member is a plain transformers model and how to load each) in one commit. The token "
        "comes from HF_TOKEN or the huggingface_hub login (`hf auth login`), never from a flag.",
    )
    model.add_argument("run", metavar="RUN", help="run folder, e.g. training/runs/demo")
    model.add_argument("--repo-id", required=True, help="OWNER/NAME of the model repository")
    model.add_argument("--private", action="store_true", help="create the repository as private")
    model.add_argument("--revision", default=None, help="branch to commit to (created if missing)")
    model.add_argument("--message", default=None, help="commit message")
    model.add_argument("--dry-run", action="store_true", help="list what would be uploaded and where; send nothing")
    model.add_argument(
        "--keep", default=None, metavar="DIR", help="also write the staged repository (card included) to this folder"
    )
    model.set_defaults(func=run_push_model)


def run_push_model(args: argparse.Namespace) -> int:
    from tradeie.data.hub import format_push_result, push_model

    result = push_model(
        args.run,
        args.repo_id,
        private=args.private,
        revision=args.revision,
        dry_run=args.dry_run,
        commit_message=args.message,
        keep=args.keep,
    )
    print(format_push_result(result))
    return 0
