"""``franc analyze``: add findings to each compilable candidate of a filtered JSONL file."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console

from franc.analysis import Analyzers
from franc.analysis.base import DEFAULT_TIMEOUT
from franc.analysis.report import (
    Subject,
    at_or_above,
    new_findings,
    read_baseline,
    reported,
    sarif_log,
    text_lines,
    write_baseline,
)
from franc.analysis.settings import PolicyRef
from franc.errors import InputError
from franc.jsonl import read_jsonl, write_jsonl
from franc.models import EXTENSIONS, LANGUAGES, LEVELS, Candidate, Language, Task
from franc.parallel import (
    add_progress_flags,
    default_workers,
    map_chunks,
    note_console,
    show_progress,
)

#: Candidates per chunk sent to a worker (pylint lints a chunk in one run).
CHUNK_SIZE = 100
#: Report formats of ``--format``.
FORMATS = ("jsonl", "text", "sarif")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze", help="add analyzer findings to filtered candidates, or check source files",
        description="Run bandit and pylint (Python) or FRANC's Java rules. Either over the "
                    "compilable candidates of a `franc filter` output (--candidates, written "
                    "back as JSONL with `findings`), or over source files named on the command "
                    "line (language from the extension), as a linter does; files that do not "
                    "compile are reported with the static filter's fix where it has one. "
                    "Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or input "
                    "error.",
        epilog="Examples: `franc analyze src/app.py Main.java --fail-on medium`; "
               "`franc analyze --language python --candidates filtered.jsonl --format sarif "
               "-o franc.sarif`.")
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="source files to check (.py, .java); instead of --candidates")
    parser.add_argument("--language", choices=LANGUAGES,
                        help="language of --candidates (required with it), or of every FILE "
                             "(default: from each file's extension)")
    parser.add_argument("--candidates", type=Path,
                        help="filtered candidates (JSONL from `franc filter`)")
    parser.add_argument("--prompts", type=Path,
                        help="the benchmark's prompts, to mark findings on the prompt's lines "
                             "(in_prompt); without it every finding counts")
    parser.add_argument("--prompts-format", help="format of --prompts (detected by default)")
    parser.add_argument("--analyzers", type=comma_list,
                        help="comma-separated analyzer ids (default: bandit,pylint for Python, "
                             "java-rules for Java; optional: semgrep, findbugs)")
    parser.add_argument("--chain", metavar="NAME|PATH",
                        help="the filter policy whose [analysis.*] tables configure the "
                             "analyzers, as given to `franc filter --chain` (default: "
                             "filters/<language>.toml)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="CPU seconds per candidate before an analyzer gives up on it")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--format", choices=FORMATS, dest="output_format",
                        help="jsonl: the candidates with findings (default with --candidates); "
                             "text: one line per finding, path:line:column (default with FILEs); "
                             "sarif: SARIF 2.1.0 for code scanning and editors")
    parser.add_argument("-o", "--output", type=Path,
                        help="write the report here (default: standard output)")
    parser.add_argument("--fail-on", choices=LEVELS, metavar="{" + ",".join(LEVELS) + "}",
                        help="exit with status 1 when a finding of this severity or higher is "
                             "reported (code that does not compile counts as high)")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="accept the findings listed in FILE: they are left out of the "
                             "text and SARIF reports and of --fail-on")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="write every finding reported now to FILE, to accept them later "
                             "with --baseline")
    add_progress_flags(parser)
    parser.set_defaults(func=run)


def comma_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def run(args: argparse.Namespace) -> int:
    console = note_console(args)
    if bool(args.files) == (args.candidates is not None):
        raise InputError("give source FILEs or --candidates JSONL (one of the two)")
    if args.files and args.prompts is not None:
        raise InputError("--prompts marks prompt lines of --candidates; source FILEs have none")
    if args.candidates is not None:
        if args.language is None:
            raise InputError("--candidates needs --language")
        subjects = _candidate_subjects(args, console)
    else:
        subjects = _file_subjects(args, console)
    output_format = args.output_format or ("jsonl" if args.candidates is not None else "text")
    results = reported(subjects)
    if args.write_baseline is not None:
        write_baseline(args.write_baseline, results)
        console.print(f"baseline of {len(results)} findings -> {args.write_baseline}")
    accepted = len(results)
    if args.baseline is not None:
        results = new_findings(results, read_baseline(args.baseline))
    accepted -= len(results)
    if output_format == "jsonl" and args.output is not None:
        write_jsonl(args.output, (s.candidate.to_json() for s in subjects))
    elif output_format == "jsonl":
        _write(None, "".join(json.dumps(s.candidate.to_json(), ensure_ascii=False) + "\n"
                             for s in subjects))
    elif output_format == "sarif":
        log = sarif_log(subjects, results, embed_code=args.candidates is not None)
        _write(args.output, json.dumps(log, indent=1, ensure_ascii=False) + "\n")
    else:
        _write(args.output, "".join(line + "\n" for line in text_lines(results)))
    gate = at_or_above(results, args.fail_on) if args.fail_on else []
    summary = (f"{len(subjects)} {'candidates' if args.candidates else 'files'}: "
               f"{len(results)} findings" + (f" ({accepted} more in the baseline)"
                                             if args.baseline is not None else ""))
    if args.fail_on:
        summary += f", {len(gate)} at or above {args.fail_on}"
    if args.output is not None:
        summary += f" -> {args.output}"
    console.print(summary, highlight=False)
    return 1 if gate else 0


def _write(output: Path | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")


def _analyzer_names(language: Language, wanted: list[str] | None, policy: PolicyRef,
                    console: Console) -> list[str]:
    # Validates the names and the policy, and reports skipped analyzers, before any work.
    with Analyzers(language, wanted, policy=policy) as probe:
        for name, reason in probe.skipped.items():
            console.print(f"note: analyzer {name} skipped: {reason}")
        names = probe.names
    if not names:
        raise InputError("no analyzer can run here (see the notes above)")
    return names


def _analyze(args: argparse.Namespace, language: Language, candidates: list[Candidate],
             tasks: Mapping[str, Task], console: Console) -> list[Candidate]:
    names = _analyzer_names(language, args.analyzers, args.chain, console)
    work = functools.partial(analyze_chunk, language, tuple(names), args.timeout, tasks,
                             policy=args.chain)
    return map_chunks(work, candidates, workers=args.workers or default_workers(),
                      chunk_size=CHUNK_SIZE, description=f"analyze ({', '.join(names)})",
                      progress=show_progress(args))


def _candidate_subjects(args: argparse.Namespace, console: Console) -> list[Subject]:
    language: Language = args.language
    candidates = [Candidate.from_json(row, source=str(args.candidates), line=line)
                  for line, row in read_jsonl(args.candidates)]
    tasks: dict[str, Task] = {}
    if args.prompts is not None:
        from franc.datasets import load_tasks

        tasks = {t.task_id: t for t in load_tasks(args.prompts, args.prompts_format, language)}
    else:
        console.print("note: no --prompts given, so no finding is marked as in the prompt")
    analysed = _analyze(args, language, candidates, tasks, console)
    suffix = next(ext for ext, lang in EXTENSIONS.items() if lang == language)
    return [Subject(quote(f"{c.task_id}/{c.index}{suffix}", safe="/"), language, c)
            for c in analysed]


def _file_language(path: Path, forced: Language | None) -> Language:
    language = forced or EXTENSIONS.get(path.suffix)
    if language is None:
        raise InputError(f"cannot tell the language of this file (expected "
                         f"{', '.join(EXTENSIONS)}); give --language", source=str(path))
    return language


def _read_source(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})",
                         source=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc


def _file_subjects(args: argparse.Namespace, console: Console) -> list[Subject]:
    """Compile-check and analyse each file; a file that does not compile gets the static
    filter's fix when that makes it compile (as ``franc lsp`` offers it)."""
    from franc.filter import StaticFilter

    by_language: dict[Language, list[Path]] = {}
    for path in dict.fromkeys(args.files):
        by_language.setdefault(_file_language(path, args.language), []).append(path)
    subjects: dict[Path, Subject] = {}
    for language, paths in by_language.items():
        texts = [_read_source(path) for path in paths]
        candidates: list[Candidate] = []
        fixes: dict[Path, Candidate] = {}
        with StaticFilter(language) as static_filter:
            checked = static_filter.compiler.check(texts)
            for path, text, result in zip(paths, texts, checked, strict=True):
                candidates.append(Candidate(task_id=str(path), index=0, code=text,
                                            compiles=result.ok, errors=list(result.errors)))
                if not result.ok:
                    fixed = static_filter.run(Task(str(path), "", language), text)
                    if fixed.compiles and fixed.code != text:
                        fixes[path] = fixed
        analysed = _analyze(args, language, candidates, {}, console)
        for path, candidate in zip(paths, analysed, strict=True):
            fix = fixes.get(path)
            subjects[path] = Subject(path.as_posix(), language, candidate,
                                     fix.code if fix else None,
                                     tuple(fix.heuristics) if fix else ())
    return [subjects[path] for path in dict.fromkeys(args.files)]


@functools.cache
def warm_analyzers(language: str, names: tuple[str, ...] | None, timeout: float,
                   policy: PolicyRef = None) -> Analyzers:
    """One set of analyzers per worker process, kept warm across the chunks it receives."""
    return Analyzers(language, names, timeout=timeout, policy=policy)


def analyze_chunk(language: str, names: tuple[str, ...] | None, timeout: float,
                  tasks: Mapping[str, Task], chunk: Sequence[Candidate], *,
                  policy: PolicyRef = None) -> list[Candidate]:
    return warm_analyzers(language, names, timeout, policy).run(chunk, tasks)
