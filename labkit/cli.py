"""The `labkit` command: run lessons, drive the shared lab of kernels and terminals, teach.

    labkit run [--out build] [--lesson 01 ...] [--jobs 2]
    labkit emulator start [--name NAME] [--upto LESSON] [--env] [--idle-timeout S] [--aws-like]
    labkit emulator env [--name NAME] [--profile PROFILE] [--start]
    labkit emulator status | stop [--name NAME]   (no --name: the one running lab)
    labkit emulator stop --all                   (every lab of this user, any LABKIT_HOME)
    labkit lab [--work DIR] [--solutions] [--name NAME]   (make lab: JupyterLab on your lessons)
    labkit solution LESSON [--work DIR]                  (the lesson's reference, in DIR/solutions/)
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


def cmd_lab(args) -> int:
    from labkit import serve

    extra = args.jupyter_args[1:] if args.jupyter_args[:1] == ["--"] else args.jupyter_args
    return serve.run(args.solutions, args.work, args.name, extra)


def cmd_solution(args) -> int:
    from labkit import workspace

    path, copied = workspace.solution(args.lesson, args.work)
    print(f"{'Copied' if copied else 'Already there (left as it is)'}: the reference version "
          f"of lesson {args.lesson}, {path}")
    return 0


def cmd_emulator(args) -> int:
    from labkit.emulator import shared_lab

    if args.action == "start":
        name = args.name or _default_name()
        state, started = shared_lab.ensure(name, args.idle_timeout, aws_like=args.aws_like)
        shared_lab.register_holders(name)  # this shell (or script) holds the lab while it lives
        built = _build_into(state, name, args.upto) if args.upto else []
        verb = "started" if started else "already running"
        summary = (f"labkit lab for {name} {verb} (pid {state['pid']}"
                   + (f", built lessons {', '.join(built)}" if built else "") + ").")
        how = f'Use it in this shell with:  eval "$(labkit emulator env --name {name})"'
        if args.env or not sys.stdout.isatty():
            # Under eval "$(...)" (stdout captured) or --env: the exports, the summary aside.
            print(f"# {summary}\n# {how}", file=sys.stderr)
            print(shared_lab.exports(state))
        else:  # typed at a terminal: a summary to read, not thirty export lines
            print(f"{summary}\n{how}\n(or: eval \"$(labkit emulator start --name {name} --env)\")")
        return 0
    if args.action == "env":
        if args.start:
            name = args.name or _one_running_or_chosen(shared_lab)
            state = shared_lab.ensure(name, args.idle_timeout)[0]
        else:
            name = shared_lab.resolve(args.name)
            state = shared_lab.read_state(name)
        if not state:
            print(f"No lab is running for {name}. Start one with: "
                  f"labkit emulator start --name {name}", file=sys.stderr)
            return 1
        shared_lab.register_holders(name)  # the terminal that evals these exports uses it
        print(shared_lab.exports(state, args.profile))
        return 0
    if args.action == "status":
        return _status(shared_lab, args.name)
    if args.action == "stop":
        if args.all:
            return _stop_all(args.name)
        name = shared_lab.resolve(args.name)
        stopped = shared_lab.stop(name)
        print(f"Stopped the lab for {name}." if stopped else f"No lab was running for {name}.")
        return 0
    raise AssertionError(args.action)


def _status(shared_lab, only: str | None) -> int:
    """This LABKIT_HOME's labs in detail, then every other lab process of the user."""
    from labkit import attached, config, lifetime

    labs = shared_lab.running()
    if only:
        labs = {only: labs[only]} if only in labs else {}
    processes = {lab.pid: lab for lab in lifetime.lab_processes()}
    if not labs:
        print(f"No labkit lab is running{' for ' + only if only else ''} in "
              f"LABKIT_HOME {config.labkit_home()}.")
    for name, state in labs.items():
        process = processes.pop(int(state["pid"]), None)
        print(f"{name}: running, pid {state['pid']}, {state['url']}, built through "
              f"{state.get('upto') or 'what its notebooks built'}, since {state['started']}"
              + (f" (up {process.age}, {process.memory})" if process else "") +
              f", used by {attached.summary(shared_lab.live_clients(name))}, held by "
              f"{attached.summary(shared_lab.live_holders(name))}, stops after "
              f"{float(state.get('idle_timeout') or 0):g} s idle or "
              f"{float(state.get('detach_grace') or 0):g} s after nothing holds it, "
              f"{'aws-like, ' if state.get('aws_like') else ''}"
              f"profiles {', '.join(shared_lab.profiles(name)) or '(none)'}")
    others = [lab for lab in processes.values() if not only or lab.name == only]
    if others:
        print(f"Other labs of this user ({len(others)}; stop them all with "
              "`labkit emulator stop --all`):")
    for lab in others:
        print(f"  {lab.name}: pid {lab.pid}, LABKIT_HOME {lab.home}"
              f"{'' if lab.home_exists else ' (folder removed)'}, up {lab.age}, {lab.memory}")
    return 0


def _stop_all(only: str | None) -> int:
    """End every lab process of this user (of NAME only, with --name), in any LABKIT_HOME."""
    from labkit import lifetime

    labs = [lab for lab in lifetime.lab_processes() if not only or lab.name == only]
    stopped = lifetime.stop_processes(labs)
    for lab in stopped:
        print(f"Stopped the lab for {lab.name} (pid {lab.pid}, LABKIT_HOME {lab.home}, "
              f"{lab.memory}).")
    if not stopped:
        print("No labkit lab was running.")
    return 0


def _one_running_or_chosen(shared_lab) -> str:
    """The one running lab, else LABKIT_NAME (or demo); several running: ask at a terminal
    (a JupyterLab terminal's start-up runs this), else an error saying how to choose."""
    labs = shared_lab.running()
    if not labs:
        return _default_name()
    if len(labs) == 1:
        return next(iter(labs))
    names = sorted(labs)
    how = ('choose one with  eval "$(labkit emulator env --name NAME)"  (or start JupyterLab '
           "with make lab NAME=NAME, so its terminals know)")
    listing = "\n".join(f"  {i}) {n} (pid {labs[n]['pid']}, since {labs[n]['started']})"
                        for i, n in enumerate(names, 1))
    if not sys.stdin.isatty():
        raise RuntimeError(f"{len(names)} labs are running:\n{listing}\n{how}")
    print(f"labkit: {len(names)} labs are running:\n{listing}", file=sys.stderr)
    print(f"Which one for this terminal? [1-{len(names)}] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip()
    if answer in names:
        return answer
    if answer.isdigit() and 1 <= int(answer) <= len(names):
        return names[int(answer) - 1]
    raise RuntimeError(f"no lab chosen ({answer or 'nothing'} typed); {how}")


def _build_into(state: dict, name: str, upto: str) -> list[str]:
    """Build every lesson's end state through UPTO into the running lab, from here."""
    from labkit import course
    from labkit.emulator import shared_lab

    upto = course.normalize(upto)
    os.environ.pop("LABKIT_EMULATOR_ATTACH", None)
    os.environ[shared_lab.SHARED_VARIABLE] = "1"
    os.environ.setdefault("LABKIT_NO_NETWORK", "1")
    import labkit

    lab = labkit.start(name, lesson="00", target="emulator", rebuild=False, verbose=False)
    built = course.build_through(lab, upto)
    shared_lab.record_upto(name, upto)
    return built


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the idle timeout must be more than 0 seconds")
    return value


def build_parser(extra_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute lessons headless against the emulator")
    run.add_argument("--out", default="build", help="folder for executed notebooks and summary")
    run.add_argument("--lesson", action="append", help="lesson id (repeatable); default all")
    run.add_argument("--jobs", type=int, default=2, help="lessons run at once (default 2)")
    run.add_argument("--name", default="demo", help="the NAME parameter (default demo)")
    run.set_defaults(func=cmd_run)

    lab = sub.add_parser("lab", help="JupyterLab on your own copies of the lessons (make lab)")
    lab.add_argument("--work", help="your lessons folder (default $LABKIT_WORK or work/ in the "
                                    "checkout); student versions are copied in once")
    lab.add_argument("--solutions", action="store_true",
                     help="serve the instructor's full versions (notebooks/) instead")
    lab.add_argument("--name", help="the learner NAME its terminals use (default $LABKIT_NAME)")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER,
                     help="after --: options passed on to `jupyter lab` (e.g. -- --port=8890)")
    lab.set_defaults(func=cmd_lab)

    sol = sub.add_parser("solution", help="copy a lesson's reference version into solutions/")
    sol.add_argument("lesson", help="lesson id, e.g. 02")
    sol.add_argument("--work", help="your lessons folder (default $LABKIT_WORK or work/)")
    sol.set_defaults(func=cmd_solution)

    emu = sub.add_parser("emulator", help="the learner's lab, shared by notebooks and terminals")
    emu.add_argument("action", choices=["start", "env", "status", "stop"])
    emu.add_argument("--name", help="the learner NAME (start: default $LABKIT_NAME or demo; "
                                    "env/status/stop: default the one running lab)")
    emu.add_argument("--upto", help="build every lesson's end state through this one (start only)")
    emu.add_argument("--env", action="store_true",
                     help="start: print the shell exports (as env does), for eval \"$(...)\"")
    emu.add_argument("--profile", help="set AWS_PROFILE in the exports (env only)")
    emu.add_argument("--start", action="store_true",
                     help="env: start the lab first if none runs (JupyterLab terminals use this)")
    emu.add_argument("--idle-timeout", type=_seconds, default=None,
                     help="seconds without requests or kernels before the lab stops "
                          "(default $LABKIT_LAB_IDLE_TIMEOUT or 7200)")
    emu.add_argument("--all", action="store_true",
                     help="stop: every lab of this user, in any LABKIT_HOME (with --name: "
                          "every lab of that NAME)")
    emu.add_argument("--aws-like", action="store_true",
                     help="behave like a real account: IAM delays, asynchronous resources, "
                          "global bucket names (start only; LABKIT_AWS_LIKE_DELAY seconds)")
    emu.set_defaults(func=cmd_emulator)

    for module in (COMMAND_MODULES if extra_commands else ()):
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module and not module.startswith(str(exc.name)):
                raise
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # `labkit emulator ...` runs in every JupyterLab terminal: skip the instructors'
    # commands, whose imports (papermill, nbformat) cost seconds.
    args = build_parser(extra_commands=argv[:1] not in (["emulator"], ["lab"], ["solution"])
                        ).parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, RuntimeError) as exc:
        # Bad input gets one clear line, not a traceback.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"labkit: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
