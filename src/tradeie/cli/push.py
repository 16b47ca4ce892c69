"""``tradeie push model RUN --repo-id OWNER/NAME``: a trained run to a Hub model repository."""

from __future__ import annotations

import argparse

from tradeie.cli.args import add_push_arguments, folder_output_help, push_options, refuse_stdout


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
    add_push_arguments(model, "model")
    model.add_argument(
        "--keep",
        default=None,
        metavar="DIR",
        help=folder_output_help("also write the staged repository (card included) to this folder"),
    )
    model.set_defaults(func=run_push_model)


def run_push_model(args: argparse.Namespace) -> int:
    from tradeie.data.hub import format_push_result, push_model

    refuse_stdout(args.keep, "--keep", "the staged repository")
    print(format_push_result(push_model(args.run, args.repo_id, keep=args.keep, **push_options(args))))
    return 0
