"""The knowledge index from the command line.

python -m rag build            # build or refresh the index (only changed documents are embedded)
python -m rag query "..."      # the best passages and the answer the assistant would give
python -m rag stats            # what the index holds
python -m rag eval [--sweep]   # recall@1/@3, MRR and abstention on each language's calibration sets
python -m rag publish          # build if needed, upload to INDEX_BUCKET and point KNOWLEDGE_TABLE at it
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from rag import index as rag_index  # noqa: E402
from rag.chunking import DocumentError  # noqa: E402
from rag.config import rag_settings  # noqa: E402
from rag.knowledge import EmptyQuestion, Knowledge  # noqa: E402


def build(args: argparse.Namespace) -> int:
    report = rag_index.build(progress=not args.quiet)
    print(
        f"index {report['version']}: {report['document_count']} documents, {report['chunk_count']} chunks "
        f"({report['embedded']} embedded now) in {report['seconds']:.1f} s -> {report['folder']}"
    )
    return 0


def query(args: argparse.Namespace) -> int:
    knowledge = Knowledge()
    try:
        found = knowledge.retrieve(args.question, args.k, args.language)
        answer = knowledge.answer(args.question, args.language)
    except EmptyQuestion:
        print("error: the question is empty", file=sys.stderr)
        return 2
    for hit in found.hits:
        print(f"{hit.score:.3f}  {hit.chunk.id}  [{hit.chunk.title}]\n       {hit.chunk.text}")
    print(
        f"\n[{found.language}] confidence {found.confidence:.3f} (threshold {knowledge.threshold(found.language):.3f})"
    )
    print(
        f"answer: {answer.text} (from: {answer.title})"
        if answer
        else "answer: none (the assistant says it doesn't know)"
    )
    return 0


def stats(args: argparse.Namespace) -> int:
    print(json.dumps(rag_index.status(), indent=2))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from rag.evaluation import SETS
    from rag.evaluation import evaluate as run

    knowledge = Knowledge()
    for language in SETS:
        centre = knowledge.threshold(language)
        step = 0.01 if centre < 0.3 else 0.02
        thresholds = [round(centre + step * (i - 5), 3) for i in range(11)] if args.sweep else None
        reports = run(knowledge, thresholds, language)
        if args.sweep:
            print(f"[{language}] threshold  answered  precision  abstention")
            for r in reports:
                print(f"{r.threshold:14.3f}  {r.answered:8.3f}  {r.precision:9.3f}  {r.abstention:10.3f}")
        else:
            print("\n".join(reports[0].lines()))
    return 0


def publish(args: argparse.Namespace) -> int:
    config = rag_settings()
    if not (config.index_bucket and config.pointer_table):
        print(
            "error: publishing needs INDEX_BUCKET (the index bucket) and KNOWLEDGE_TABLE (the knowledge pointer "
            "table); see the stack outputs and deploy/README.md",
            file=sys.stderr,
        )
        return 2
    from botocore.exceptions import BotoCoreError, ClientError

    from rag.remote import publish as upload

    report = rag_index.build(progress=not args.quiet)
    try:
        pointer = upload(report["folder"], config.index_bucket, config.pointer_table, config.index_name)
    except (BotoCoreError, ClientError) as err:
        print(
            f"error: publishing to s3://{config.index_bucket} and {config.pointer_table} failed: {err}", file=sys.stderr
        )
        return 1
    print(
        f"index {pointer['version']} ({report['chunk_count']} chunks) published to "
        f"s3://{config.index_bucket}/{pointer['prefix']}; {config.pointer_table} names it live for "
        f"'{config.index_name}'"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="The knowledge index.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build or refresh the index")
    build_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    query_parser = commands.add_parser("query", help="search the index")
    query_parser.add_argument("question")
    query_parser.add_argument("-k", type=int, default=3, help="passages to show")
    query_parser.add_argument("--language", help="the customer's language (en, vi); by default the question's")
    commands.add_parser("stats", help="what the index holds")
    eval_parser = commands.add_parser("eval", help="retrieval quality on the calibration sets")
    eval_parser.add_argument("--sweep", action="store_true", help="answered/precision/abstention per threshold")
    publish_parser = commands.add_parser("publish", help="build if needed, then make it the live index on AWS")
    publish_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return {"build": build, "query": query, "stats": stats, "eval": evaluate, "publish": publish}[args.command](
            args
        )
    except (rag_index.IndexMissing, rag_index.IndexCorrupt, DocumentError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
