"""``plat jobs ...``: the job subcommands of the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable, Dict, List, Optional, TextIO

from ._cli_groups import command_group
from .client import Client
from .jobs import STATES, JobFailedError

EXIT_REFUSED = 1


def add_parser(commands: Any, connection: Callable[[], argparse.ArgumentParser]) -> None:
    """Add ``jobs`` and its subcommands to the ``plat`` subparsers."""
    command = command_group(commands, connection, "jobs", "submit, list, follow and stop training jobs",
                            "Work with training and evaluation jobs: trainers and parameter servers placed together.")

    p = command("submit", "submit a job; the scheduler queues, admits and places it", _submit)
    _spec_options(p)
    p.add_argument("--wait", action="store_true", help="return once the job has ended (exit status 1 unless it succeeded)")
    p.add_argument("--follow", "-f", action="store_true", help="print trainer-0's output as it runs, until it ends")
    p.add_argument("--wait-timeout", type=float, default=24 * 3600.0, metavar="SECONDS")

    p = command("preview", "say whether a job would start now, or why it would wait", _preview)
    _spec_options(p)

    p = command("list", "list jobs, newest first", _list)
    p.add_argument("--status", action="append", choices=STATES, help="only jobs in this state (repeatable)")
    p.add_argument("--search", metavar="TEXT", help="only jobs whose name holds TEXT")
    p.add_argument("--since", metavar="ISO8601", help="submitted at or after")
    p.add_argument("--until", metavar="ISO8601", help="submitted before")
    p.add_argument("--scope", choices=("mine", "account"), help="only yours, or every job of the accounts you are master of")
    p.add_argument("--limit", type=int, default=50, help="print at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")

    p = command("show", "show one job with its replicas", _show)
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print the raw JSON answer")

    p = command("logs", "print a replica's output", _logs)
    p.add_argument("id", metavar="ID")
    p.add_argument("--replica", default="trainer-0", help="trainer-0 (default), trainer-1, pserver-0, ...")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new output until the replica ends")
    p.add_argument("--tail", type=int, metavar="LINES", help="only the last LINES lines (then follow, with -f)")
    p.add_argument("--output", "-o", metavar="FILE", help="save the whole output to FILE instead")

    p = command("stop", "stop a job (a queued one leaves the queue)", _stop)
    p.add_argument("id", metavar="ID")

    p = command("wait", "wait until a job ends (exit status 1 unless it succeeded) or reaches --state", _wait)
    p.add_argument("id", metavar="ID")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--wait-timeout", type=float, default=24 * 3600.0, metavar="SECONDS")

    p = command("resubmit", "submit a job again as it was", _resubmit)
    p.add_argument("id", metavar="ID")

    p = command("events", "show what was asked and what happened, oldest first", _events)
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")


def _spec_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="then, after --, the program and its arguments: "
                   "plat jobs submit NAME [options] -- python3 train.py --lr 0.1")
    p.add_argument("--type", choices=("train", "evaluate"), default="train")
    p.add_argument("--module", help="run a catalog module's training command with its files")
    p.add_argument("--image", help="a container image (container backends)")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME@VERSION", help="mount a dataset read-only (repeatable)")
    p.add_argument("--code", metavar="NAME@VERSION", help="a dataset version whose files the job starts with")
    p.add_argument("--code-dir", metavar="FOLDER", help="upload FOLDER as the job's code")
    p.add_argument("--output-model", metavar="MODEL", help="on success, output/ becomes the next version of MODEL")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="an option for the job (repeatable)")
    p.add_argument("--trainers", type=int, default=1, metavar="N")
    p.add_argument("--trainer-cpus", type=float, metavar="CPUS")
    p.add_argument("--trainer-gpus", type=int, metavar="GPUS")
    p.add_argument("--trainer-memory", metavar="SIZE", help="MiB, or a size such as 2Gi")
    p.add_argument("--pservers", type=int, default=0, metavar="N")
    p.add_argument("--pserver-cpus", type=float, metavar="CPUS")
    p.add_argument("--pserver-memory", metavar="SIZE")
    p.add_argument("--priority", type=int, help="within the account: higher goes first")
    p.add_argument("--time-limit", type=int, metavar="MINUTES")
    p.add_argument("--account", metavar="ACCOUNT_ID", help="default: your current account")


def _spec(args: argparse.Namespace) -> Dict[str, Any]:
    options: Dict[str, str] = {}
    for option in args.option:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option {option!r} is not KEY=VALUE")
        options[key.strip()] = value
    command: Optional[List[str]] = list(getattr(args, "program", None) or [])
    return dict(command=command or None, type=args.type, module=args.module, image=args.image, datasets=args.dataset,
                code=args.code, code_dir=args.code_dir, output_model=args.output_model, options=options,
                num_trainer=args.trainers, cpu_per_trainer=args.trainer_cpus, gpu_per_trainer=args.trainer_gpus,
                mem_per_trainer=args.trainer_memory, num_ps=args.pservers, cpu_per_ps=args.pserver_cpus,
                mem_per_ps=args.pserver_memory, priority=args.priority, time_limit_minutes=args.time_limit,
                account_id=args.account)


def format_job(j: Dict[str, Any]) -> str:
    """One line: id, state (with the queue reason while queued, progress while running), name, replicas."""
    state = j["state"]
    if state == "queued" and j.get("queueReason"):
        position = f", #{j['queuePosition']}" if j.get("queuePosition") else ""
        state = f"queued ({j['queueReason']}{position})"
    elif state == "running" and j.get("progress") is not None:
        state = f"running {j['progress'] * 100:.0f}%"
    elif state in ("failed",) and j.get("reason"):
        state = f"failed ({j['reason'].splitlines()[0]})"
    replicas = f"{j['trainers']}T" + (f"+{j['parameterServers']}PS" if j.get("parameterServers") else "")
    access = "" if j.get("access", "owner") == "owner" else f"\t[{j['access']}]"
    return f"{j['id']}\t{state}\t{j['name']}\t{replicas}{access}"


def _submit(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    try:
        spec = _spec(args)
    except ValueError as exc:
        print(f"error: {exc}", file=args.err)
        return 2
    job = client.jobs.submit(args.name, **spec)
    print(f"submitted {format_job(job)}", file=out)
    if args.follow:
        for line in client.jobs.logs(job["id"], "trainer-0", follow=True, timeout=args.wait_timeout):
            print(line, file=out)
    if args.wait or args.follow:
        return _wait_for(client, job["id"], None, args, out)
    return 0


def _preview(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    try:
        spec = _spec(args)
    except ValueError as exc:
        print(f"error: {exc}", file=args.err)
        return 2
    spec.pop("code_dir", None)
    answer = client.jobs.preview(args.name, **spec)
    print(answer.get("message") or answer, file=out)
    return 0 if answer.get("wouldStartNow") else EXIT_REFUSED if answer.get("never") else 0


def _list(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for count, job in enumerate(client.jobs.list(status=args.status, search=args.search, since=args.since,
                                                 until=args.until, scope=args.scope, page_size=min(args.limit, 200))):
        if count >= args.limit:
            return
        print(json.dumps(job, sort_keys=True) if args.json else format_job(job), file=out)


def _show(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    j = client.jobs.get(args.id)
    if args.json:
        print(json.dumps(j, indent=2, sort_keys=True), file=out)
        return
    lines = [f"{j['name']} ({j['id']})", f"  state:    {j['state']}, wanted {j['desired']}" + (f": {j['reason']}" if j.get("reason") else "")]
    if j["state"] == "queued" and j.get("queueReason"):
        lines.append(f"  waiting:  {j['queueReason']}" + (f", position {j['queuePosition']}" if j.get("queuePosition") else "")
                     + (f", about {j['estimatedStartAt']}" if j.get("estimatedStartAt") else ""))
    if j.get("progress") is not None:
        lines.append(f"  progress: {j['progress'] * 100:.0f}% {j.get('progressMessage') or ''}".rstrip())
    lines.append(f"  command:  {' '.join(j.get('command') or []) or '(the image or module default)'}")
    lines.append(f"  times:    submitted {j['submittedAt']}" + (f", started {j['startedAt']}" if j.get("startedAt") else "")
                 + (f", finished {j['finishedAt']}" if j.get("finishedAt") else ""))
    for r in j.get("replicas") or []:
        code = "" if r.get("exitCode") is None else f", exit {r['exitCode']}"
        lines.append(f"  {r['label']:<10} {r['state']}{code}  {r['cpus']:g} CPU, {r['gpus']} GPU, {r['memoryMiB']} MiB"
                     + (f" on {r['node']}" if r.get("node") else ""))
    print("\n".join(lines), file=out)


def _logs(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    if args.output:
        written = client.jobs.download_logs(args.id, args.output, replica=args.replica)
        print(f"saved {written} bytes of {args.replica}'s output to {args.output}", file=out)
        return
    for line in client.jobs.logs(args.id, args.replica, follow=args.follow, tail=args.tail):
        print(line, file=out)
        out.flush()


def _stop(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    print(f"stopping {format_job(client.jobs.stop(args.id))}", file=out)


def _wait(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    return _wait_for(client, args.id, args.state, args, out)


def _wait_for(client: Client, job_id: str, state: Optional[str], args: argparse.Namespace, out: TextIO) -> int:
    try:
        job = client.jobs.wait(job_id, state, timeout=args.wait_timeout)
    except JobFailedError as exc:
        print(f"error: {exc}", file=args.err)
        return EXIT_REFUSED
    except TimeoutError as exc:
        print(f"error: {exc}", file=args.err)
        return EXIT_REFUSED
    print(format_job(job), file=out)
    return 0


def _resubmit(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    print(f"submitted {format_job(client.jobs.resubmit(args.id))}", file=out)


def _events(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for e in client.jobs.events(args.id):
        print(json.dumps(e, sort_keys=True) if args.json else f"{e['at']}\t{e['state']}\t{e['message']}", file=out)
