"""The `labkit` command: run lessons, drive the terminal sandbox, teach.

    labkit run [--out build] [--lesson 01 ...] [--jobs 2]
    labkit emulator start [--name NAME] [--upto LESSON] [--aws-like]
    labkit emulator env [--name NAME] [--profile PROFILE]
    labkit emulator status | stop [--name NAME]
    labkit release [--out release] [--check]
    labkit regrade SUBMISSIONS --out OUT [--lesson L] [--jobs N] [--timeout S] [--shard K/N] [--force]
    labkit regrade merge OUT... --out ALL
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

#: Modules that add their own subcommands with register(subparsers).
COMMAND_MODULES = ("labkit.grading.cli",)


def _default_name() -> str:
    return os.environ.get("LABKIT_NAME") or "demo"


def cmd_run(args) -> int:
    from labkit import runner

    runs = runner.run_all(args.out, args.lesson, jobs=args.jobs, name=args.name)
    print(runner.summary_table(runs))
    print(f"\nExecuted notebooks in {args.out}/lessons, summary in {args.out}/summary.md")
    return 0 if all(r.status == "passed" for r in runs) else 1


def cmd_emulator(args) -> int:
    from labkit.emulator import sandbox

    if args.action == "start":
        state, started = sandbox.start(args.name, args.upto, aws_like=args.aws_like)
        verb = "started" if started else "already running"
        print(f"# labkit sandbox for {args.name} {verb} (pid {state['pid']}, built through "
              f"lesson {state['upto'] or '00'}). Use it in this shell with:\n"
              f"#   eval \"$(labkit emulator env --name {args.name})\"", file=sys.stderr)
        print(sandbox.exports(state))
        return 0
    if args.action == "env":
        state = sandbox.read_state(args.name)
        if not state:
            print(f"No sandbox is running for {args.name}. Start one with: "
                  f"labkit emulator start --name {args.name} --upto 04", file=sys.stderr)
            return 1
        print(sandbox.exports(state, args.profile))
        return 0
    if args.action == "status":
        states = sandbox.all_states()
        if not any(states.values()):
            print("No labkit sandbox is running.")
        for name, state in states.items():
            if state:
                print(f"{name}: running, pid {state['pid']}, {state['url']}, built through "
                      f"{state['upto'] or '00'}, since {state['started']}, "
                      f"{'aws-like, ' if state.get('aws_like') else ''}"
                      f"profiles {', '.join(state['profiles'])}")
        return 0
    if args.action == "stop":
        stopped = sandbox.stop(args.name)
        print(f"Stopped the sandbox for {args.name}." if stopped
              else f"No sandbox was running for {args.name}.")
        return 0
    raise AssertionError(args.action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute lessons headless against the emulator")
    run.add_argument("--out", default="build", help="folder for executed notebooks and summary")
    run.add_argument("--lesson", action="append", help="lesson id (repeatable); default all")
    run.add_argument("--jobs", type=int, default=2, help="lessons run at once (default 2)")
    run.add_argument("--name", default="demo", help="the NAME parameter (default demo)")
    run.set_defaults(func=cmd_run)

    emu = sub.add_parser("emulator", help="the emulator as a background sandbox for a terminal")
    emu.add_argument("action", choices=["start", "env", "status", "stop"])
    emu.add_argument("--name", default=_default_name(), help="the learner NAME (default demo)")
    emu.add_argument("--upto", help="build the lab through this lesson (start only)")
    emu.add_argument("--profile", help="set AWS_PROFILE in the exports (env only)")
    emu.add_argument("--aws-like", action="store_true",
                     help="behave like a real account: IAM delays, asynchronous resources, "
                          "global bucket names (start only; LABKIT_AWS_LIKE_DELAY seconds)")
    emu.set_defaults(func=cmd_emulator)

    for module in COMMAND_MODULES:
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module and not module.startswith(str(exc.name)):
                raise
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, RuntimeError) as exc:
        # Bad input gets one clear line, not a traceback.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"labkit: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
