"""Subcommands for instructors, added to ``labkit`` by labkit/cli.py:

    labkit release [--out release] [--notebooks notebooks] [--check]
    labkit regrade SUBMISSIONS --out OUT [--lesson L] [--jobs N] [--timeout S]
                   [--cell-timeout S] [--memory SIZE] [--max-notebook-mb MB]
                   [--batch-timeout S] [--shard K/N] [--force] [--no-sandbox]
    labkit regrade merge OUT... [--out MERGED]

Exit status of regrade: 0 every submission graded, 2 bad arguments, 3 no working
bubblewrap, 4 some submissions NOT graded (a grader error after retries, or the batch
deadline): their rows say why, no points lost; run the same command again to grade them.
"""
from __future__ import annotations

import sys
from pathlib import Path

#: `labkit regrade`'s exit status when some rows say "not graded" (see the docstring).
EXIT_NOT_GRADED = 4


def cmd_release(args) -> int:
    from labkit.grading import release

    if args.check:
        problems = release.drift(args.out, args.notebooks)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("Run `labkit release --out release` (or `make release`) and commit release/.",
                  file=sys.stderr)
        return 1 if problems else 0
    written = release.release(args.out, args.notebooks)
    print(f"Wrote {len(written)} student notebook(s) to {args.out}")
    if args.solutions_through:
        from labkit import config, course
        from labkit.grading import withhold

        try:
            through = course.normalize(args.solutions_through)
        except ValueError as exc:
            print(f"--solutions-through: {exc}", file=sys.stderr)
            return 2
        package = Path(args.out) / "package"
        withheld = withhold.release_package(config.repo_root(), through, package)
        print(f"Wrote the labkit package to {package / 'labkit'} with the reference solutions "
              f"of lessons up to {through} only; withheld: {', '.join(withheld) or 'none'}. "
              f"Learners install it with PYTHONPATH={package} (or copy it over their labkit).")
    return 0


def cmd_regrade(args) -> int:
    from labkit.grading import regrade

    if args.paths[0] == "merge":
        outs = args.paths[1:]
        if not outs:
            raise ValueError("labkit regrade merge needs the OUT folders to merge, "
                             "e.g. labkit regrade merge out/shard-1 out/shard-2 --out out/all")
        into = args.out or outs[0]
        count = regrade.merge(outs, into)
        print(f"Merged {count} result(s) into {into}: grades.csv, summary.csv, report.html")
        return 0
    if len(args.paths) != 1:
        raise ValueError("labkit regrade takes one SUBMISSIONS folder (or: merge OUT...)")
    if not args.out:
        raise ValueError("labkit regrade needs --out OUT (the folder for grades and reports)")
    if args.timeout <= 0 or args.jobs < 1:
        raise ValueError("--timeout must be positive and --jobs at least 1")
    for flag, value in (("--cell-timeout", args.cell_timeout),
                        ("--max-notebook-mb", args.max_notebook_mb),
                        ("--batch-timeout", args.batch_timeout)):
        if value is not None and value <= 0:
            raise ValueError(f"{flag} must be positive, not {value:g}")
    from labkit.grading.sandbox import SandboxUnavailable

    if args.no_sandbox:
        print("labkit regrade: --no-sandbox: learner code runs as you, with your files and "
              "network; only for submissions you trust.", file=sys.stderr)
    try:
        counts = regrade.regrade(
            args.paths[0], args.out, lesson=args.lesson, jobs=args.jobs, timeout=args.timeout,
            cell_timeout=args.cell_timeout, shard_spec=args.shard, force=args.force,
            sandbox=not args.no_sandbox, memory_mb=parse_size_mb(args.memory),
            max_notebook_mb=args.max_notebook_mb or regrade.DEFAULT_MAX_NOTEBOOK_MB,
            batch_timeout=args.batch_timeout)
    except SandboxUnavailable as exc:
        print(f"labkit regrade: {exc}", file=sys.stderr)
        return 3
    print(f"Graded {counts['graded']}, skipped {counts['skipped']} unchanged, of "
          f"{counts['total']} submission(s) in {counts['seconds']} s. "
          f"See {args.out}/grades.csv and {args.out}/report.html")
    if counts.get("not_graded"):
        print(f"labkit regrade: {counts['not_graded']} submission(s) NOT graded (grader error "
              f"or batch deadline; see the reason column of {args.out}/summary.csv). No points "
              "were taken; run the same command again to grade them.", file=sys.stderr)
        return EXIT_NOT_GRADED
    return 0


def parse_size_mb(text: str) -> int:
    """"2G", "1536M", "2048" (MiB) -> MiB; a clear error otherwise."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([GgMm]i?[Bb]?)?\s*", str(text))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"--memory {text!r}: write a size such as 2G or 1536M")
    value = float(match.group(1)) * (1024 if (match.group(2) or "M")[0] in "Gg" else 1)
    if value < 256:
        raise ValueError(f"--memory {text!r}: a kernel needs at least 256M")
    return int(value)


def register(subparsers) -> None:
    """Add ``release`` and ``regrade`` to the ``labkit`` command."""
    from labkit.grading.regrade import DEFAULT_TIMEOUT
    from labkit.grading.release import DEFAULT_OUT

    release = subparsers.add_parser(
        "release", help="write student versions of the lessons (solutions stubbed)")
    release.add_argument("--out", default=DEFAULT_OUT, help="folder (default release)")
    release.add_argument("--notebooks", help="source notebooks folder (default notebooks/)")
    release.add_argument("--solutions-through", metavar="NN",
                         help="also write OUT/package/labkit, a copy of the package holding "
                              "the reference solutions of lessons up to NN only (the ones "
                              "labkit.start uses to catch a learner up)")
    release.add_argument("--check", action="store_true",
                         help="write nothing; fail if --out differs from a fresh release")
    release.set_defaults(func=cmd_release)

    regrade = subparsers.add_parser(
        "regrade", help="execute and grade submissions (or: regrade merge OUT...)",
        description="Execute every submission in a fresh kernel and emulator, then run the "
                    "visible and hidden checks in the grader.")
    regrade.add_argument("paths", nargs="+", metavar="SUBMISSIONS",
                         help="folder of NAME.ipynb or NAME/*.ipynb; or `merge OUT...`")
    regrade.add_argument("--out", help="folder for grades.csv, summary.csv, report.html, "
                                       "feedback/ (merge: default the first OUT)")
    regrade.add_argument("--lesson", help="grade only this lesson's notebooks")
    regrade.add_argument("--jobs", type=int, default=2, help="parallel graders (default 2)")
    regrade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                         help=f"seconds a whole notebook may run (default {DEFAULT_TIMEOUT:g})")
    regrade.add_argument("--cell-timeout", type=float,
                         help="seconds one cell may run (default 120, at most --timeout)")
    regrade.add_argument("--memory", default="2G",
                         help="address space of each kernel and what it starts (default 2G)")
    regrade.add_argument("--max-notebook-mb", type=float,
                         help="refuse notebooks larger than this (default 20)")
    regrade.add_argument("--batch-timeout", type=float,
                         help="seconds the whole batch may take (default: from the counts)")
    regrade.add_argument("--no-sandbox", action="store_true",
                         help="run kernels WITHOUT bubblewrap (trusted submissions only)")
    regrade.add_argument("--shard", help="grade only slice K of N, e.g. 2/4 (merge them after)")
    regrade.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    regrade.set_defaults(func=cmd_regrade)
