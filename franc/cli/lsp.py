"""``franc lsp``: the language server over stdio."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lsp", help="language server: FRANC's findings as diagnostics (stdio)",
        description="Run FRANC as a language server over stdio for Python and Java documents.")
    parser.add_argument("--debounce", type=float, default=0.3,
                        help="seconds to wait after a change before re-analysing")
    parser.add_argument("--generator", help="enable 'ask the model to fix this' "
                        "(replay:DIR, openai:URL or hf:PATH)")
    parser.add_argument("--template", default="chat", help="repair template for the model")
    parser.add_argument("--max-chars", type=int, default=None,
                        help="larger documents are not analysed (default 100000)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from franc.lsp.server import MAX_DOCUMENT_CHARS, DocumentChecker, build_server

    repair = None
    if args.generator:
        from franc.lsp.repair import model_repair

        repair = model_repair(args.generator, args.template)
    checker = DocumentChecker(max_chars=args.max_chars or MAX_DOCUMENT_CHARS)
    build_server(checker, debounce_seconds=args.debounce, repair=repair).start_io()
    return 0
