"""Training and evaluation jobs, reached as ``client.jobs``; ``create_cloud_job`` is PaddlePaddle Cloud's call.

A job runs a command as replicas (trainers, and parameter servers when asked)
placed all together by the platform's scheduler. It holds what its owner wants
(``desired``: running or stopped) beside what the platform last saw
(``state``: queued, starting, running, stopping, succeeded, failed, stopped).
While queued, ``queueReason``, ``queuePosition`` and ``estimatedStartAt`` say
why it waits and until when.

Each replica gets ``RANK``, ``WORLD_SIZE``, ``PLATFORM_ROLE`` and its peers'
addresses (``PLATFORM_TRAINER_ENDPOINTS``, ``PLATFORM_PSERVER_ENDPOINTS``) in
its environment, with ``PLATFORM_API_URL``/``PLATFORM_API_KEY`` so that
``Client()`` and ``report_progress`` work inside it with no configuration.

From a notebook::

    from platformsdk import create_cloud_job
    job = create_cloud_job("mnist", num_trainer=2, mem_per_trainer="1Gi", gpu_per_trainer=0, cpu_per_trainer=1,
                           num_ps=1, mem_per_ps="512Mi", cpu_per_ps=0.5,
                           command="python3 train.py --epochs 3", code_dir=".")
    for line in client.jobs.logs(job["id"], "trainer-0", follow=True):
        print(line)
"""

from __future__ import annotations

import os
import re
import shlex
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from .errors import NotFoundError

if TYPE_CHECKING:
    from .client import Client

ENV_JOB_ID = "PLATFORM_JOB_ID"
STATES = ("queued", "starting", "running", "stopping", "succeeded", "failed", "stopped")
FINISHED = ("succeeded", "failed", "stopped")
Memory = Union[int, str, None]
Command = Union[str, Sequence[str], None]

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?)?B?\s*$", re.IGNORECASE)
_FACTORS_MIB = {"": 1.0, "k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 * 1024}


class JobFailedError(RuntimeError):
    """``wait`` saw the job end without succeeding (failed, or stopped when success was expected)."""

    def __init__(self, job: Dict[str, Any]) -> None:
        self.job = job
        super().__init__(f"job {job.get('name')!r} ({job.get('id')}) {job.get('state')}: "
                         f"{job.get('reason') or 'no reason given'}")


def parse_memory(value: Memory) -> Optional[int]:
    """Memory in MiB from an int (MiB) or a string such as ``"1Gi"``, ``"512Mi"``, ``"2G"`` or ``"300"`` (MiB)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"memory must be MiB or a size such as '1Gi', got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    match = _MEMORY.match(str(value))
    if not match:
        raise ValueError(f"memory must be MiB or a size such as '1Gi' or '512Mi', got {value!r}")
    number, unit = float(match.group(1)), (match.group(2) or "")[:1].lower()
    return max(1, int(round(number * _FACTORS_MIB[unit])))


def split_command(command: Command) -> Optional[List[str]]:
    """argv from a shell-like string (``"python3 train.py --lr 0.1"``) or a list, as given."""
    if command is None:
        return None
    if isinstance(command, str):
        return shlex.split(command)
    return [str(argument) for argument in command]


def _group(count: Optional[int], cpus: Optional[float], gpus: Optional[int], memory: Memory) -> Optional[Dict[str, Any]]:
    group = {"count": count, "cpus": cpus, "gpus": gpus, "memoryMiB": parse_memory(memory)}
    group = {k: v for k, v in group.items() if v is not None}
    return group or None


class Jobs:
    """The jobs endpoints for one client."""

    def __init__(self, client: "Client") -> None:
        self.client = client

    def submit(
        self,
        name: str,
        command: Command = None,
        *,
        type: str = "train",  # noqa: A002 - the API's field name
        module: Optional[str] = None,
        image: Optional[str] = None,
        datasets: Iterable[str] = (),
        code: Optional[str] = None,
        code_dir: Optional[str] = None,
        output_model: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
        num_trainer: int = 1,
        cpu_per_trainer: Optional[float] = None,
        gpu_per_trainer: Optional[int] = None,
        mem_per_trainer: Memory = None,
        num_ps: int = 0,
        cpu_per_ps: Optional[float] = None,
        mem_per_ps: Memory = None,
        priority: Optional[int] = None,
        time_limit_minutes: Optional[int] = None,
        account_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Submit a job and return it (queued: the scheduler admits and places it).

        ``command`` is a string (split like a shell would) or a list; with
        ``module`` it defaults to the module's training command. ``datasets``
        are ``name@version`` mounted read-only at ``datasets/<name>``;
        ``code_dir`` uploads a local folder as a new version of the dataset
        ``<name>-code`` and the job starts with its files (``code`` names such a
        version directly); ``output_model`` is the model whose next version
        the job's ``output/`` folder becomes when it succeeds. Memory is MiB or
        a size such as ``"1Gi"``. Raises BadRequestError with the field errors
        when the platform refuses it.
        """
        body = self._body(name, command, type, module, image, datasets, code, code_dir, output_model, options,
                          num_trainer, cpu_per_trainer, gpu_per_trainer, mem_per_trainer, num_ps, cpu_per_ps, mem_per_ps,
                          priority, time_limit_minutes, account_id)
        return self.client.request("POST", "/jobs", json=body)

    def preview(self, name: str, command: Command = None, **kwargs: Any) -> Dict[str, Any]:
        """What the scheduler would do with this job now, without submitting it.

        Takes ``submit``'s arguments (``code_dir`` is not uploaded: the code does
        not change a decision). The answer has ``wouldStartNow``, ``never``,
        ``message``, ``reason``, ``position`` and ``estimatedStartAt``.
        """
        kwargs.pop("code_dir", None)
        args = dict(type="train", module=None, image=None, datasets=(), code=None, code_dir=None, output_model=None,
                    options=None, num_trainer=1, cpu_per_trainer=None, gpu_per_trainer=None, mem_per_trainer=None, num_ps=0,
                    cpu_per_ps=None, mem_per_ps=None, priority=None, time_limit_minutes=None, account_id=None)
        unknown = set(kwargs) - set(args)
        if unknown:
            raise TypeError(f"preview() got unexpected arguments: {', '.join(sorted(unknown))}")
        args.update(kwargs)
        body = self._body(name, command, **args)
        return self.client.request("POST", "/jobs/preview", json=body)

    def _body(self, name: str, command: Command, type: str, module: Optional[str], image: Optional[str],  # noqa: A002
              datasets: Iterable[str], code: Optional[str], code_dir: Optional[str], output_model: Optional[str],
              options: Optional[Mapping[str, Any]], num_trainer: int, cpu_per_trainer: Optional[float],
              gpu_per_trainer: Optional[int], mem_per_trainer: Memory, num_ps: int, cpu_per_ps: Optional[float],
              mem_per_ps: Memory, priority: Optional[int], time_limit_minutes: Optional[int],
              account_id: Optional[str]) -> Dict[str, Any]:
        if code_dir is not None:
            if code is not None:
                raise ValueError("give code (a dataset version) or code_dir (a folder to upload), not both")
            code = self.upload_code(name, code_dir, account_id=account_id)
        body = {
            "accountId": account_id,
            "name": name,
            "type": type,
            "module": module,
            "image": image,
            "command": split_command(command),
            "datasets": list(datasets),
            "code": code,
            "outputModel": output_model,
            "options": {str(k): str(v) for k, v in (options or {}).items()},
            "trainers": _group(num_trainer, cpu_per_trainer, gpu_per_trainer, mem_per_trainer),
            "parameterServers": _group(num_ps, cpu_per_ps, None, mem_per_ps) if num_ps else {"count": 0},
            "priority": priority,
            "timeLimitMinutes": time_limit_minutes,
        }
        return {k: v for k, v in body.items() if v is not None}

    def upload_code(self, job_name: str, folder: str, account_id: Optional[str] = None) -> str:
        """Upload ``folder`` as the next version of the dataset ``<job-name>-code`` and return ``name@version``."""
        if not os.path.isdir(folder):
            raise ValueError(f"code_dir {folder!r} is not a folder")
        dataset = code_dataset_name(job_name)
        datasets = self.client.datasets
        try:
            datasets.get(dataset)
        except NotFoundError:
            datasets.create(dataset, description=f"Code of the job {job_name!r}, uploaded by create_cloud_job",
                            tags=["job-code"], account_id=account_id)
        datasets.upload_folder(f"{dataset}@draft", folder, progress=False)
        version = datasets.publish(dataset)
        return f"{dataset}@{version['version']}"

    def list(self, status: Union[str, Sequence[str], None] = None, search: Optional[str] = None,
             since: Optional[str] = None, until: Optional[str] = None, scope: Optional[str] = None,
             sort: Optional[str] = None, page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Yield jobs newest first (or as ``sort`` says), following the platform's cursor pages.

        ``status``: one state or several; ``search``: part of the name;
        ``since``/``until``: submission time (ISO 8601); ``scope``: ``"mine"``
        or ``"account"`` (every job of the accounts the caller is master of).
        """
        params: Dict[str, Any] = {"status": [status] if isinstance(status, str) else list(status or []) or None,
                                  "search": search, "from": since, "to": until, "scope": scope, "sort": sort,
                                  "pageSize": page_size}
        while True:
            page = self.client.request("GET", "/jobs", params=params)
            for job in page.get("items", []):
                yield job
            cursor = page.get("next") or page.get("nextCursor")
            if not cursor or not page.get("items"):
                return
            params["after"] = cursor

    def get(self, job_id: str) -> Dict[str, Any]:
        """Return one job by id, with its replicas."""
        return self.client.request("GET", f"/jobs/{_quote(job_id)}")

    def current(self) -> Dict[str, Any]:
        """Return the job this code runs in (``$PLATFORM_JOB_ID``)."""
        return self.get(_current_job_id())

    def events(self, job_id: str, page_size: int = 200) -> List[Dict[str, Any]]:
        """Every event so far, oldest first: who asked for what, and what the platform saw and did."""
        events: List[Dict[str, Any]] = []
        page_number = 1
        while True:
            page = self.client.request("GET", f"/jobs/{_quote(job_id)}/events", params={"page": page_number, "pageSize": page_size})
            events.extend(page["items"])
            if len(events) >= page["total"] or not page["items"]:
                return events
            page_number += 1

    def stop(self, job_id: str) -> Dict[str, Any]:
        """Stop the job: a queued job leaves the queue, a running one has its replicas stopped."""
        return self.client.request("POST", f"/jobs/{_quote(job_id)}/stop")

    def clone(self, job_id: str, **edits: Any) -> Dict[str, Any]:
        """Submit a new job from this one's spec with the edits given.

        Edits: ``name``, ``command``, ``datasets``, ``options``, ``num_trainer``,
        ``cpu_per_trainer``, ``gpu_per_trainer``, ``mem_per_trainer``,
        ``num_ps``, ``cpu_per_ps``, ``mem_per_ps``, ``priority``,
        ``time_limit_minutes``; a replica group edit replaces the whole group.
        """
        known = {"name", "command", "datasets", "options", "num_trainer", "cpu_per_trainer", "gpu_per_trainer",
                 "mem_per_trainer", "num_ps", "cpu_per_ps", "mem_per_ps", "priority", "time_limit_minutes"}
        unknown = set(edits) - known
        if unknown:
            raise TypeError(f"clone() got unexpected edits: {', '.join(sorted(unknown))}")
        body: Dict[str, Any] = {
            "name": edits.get("name"),
            "command": split_command(edits.get("command")),
            "datasets": list(edits["datasets"]) if "datasets" in edits else None,
            "options": {str(k): str(v) for k, v in edits["options"].items()} if "options" in edits else None,
            "priority": edits.get("priority"),
            "timeLimitMinutes": edits.get("time_limit_minutes"),
        }
        if any(k in edits for k in ("num_trainer", "cpu_per_trainer", "gpu_per_trainer", "mem_per_trainer")):
            body["trainers"] = _group(edits.get("num_trainer", 1), edits.get("cpu_per_trainer"),
                                      edits.get("gpu_per_trainer"), edits.get("mem_per_trainer"))
        if any(k in edits for k in ("num_ps", "cpu_per_ps", "mem_per_ps")):
            body["parameterServers"] = _group(edits.get("num_ps", 0), edits.get("cpu_per_ps"), None, edits.get("mem_per_ps"))
        return self.client.request("POST", f"/jobs/{_quote(job_id)}/clone", json={k: v for k, v in body.items() if v is not None})

    def resubmit(self, job_id: str) -> Dict[str, Any]:
        """Submit the same job again (a clone without edits)."""
        return self.client.request("POST", f"/jobs/{_quote(job_id)}/clone", json={})

    def wait(self, job_id: str, state: Optional[str] = None, timeout: float = 3600.0, interval: float = 2.0) -> Dict[str, Any]:
        """Poll until the job reaches ``state`` (default: its end) and return it.

        Waiting for its end raises JobFailedError when it failed (or was
        stopped) instead of succeeding. Waiting for ``"running"`` raises
        JobFailedError if it ends first. Raises TimeoutError after ``timeout``.
        """
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            current = job.get("state")
            if state is not None and current == state:
                return job
            if current in FINISHED:
                if state is None and current == "succeeded":
                    return job
                raise JobFailedError(job)
            left = deadline - time.monotonic()
            if left <= 0:
                waiting = f": {job['queueReason']}" if current == "queued" and job.get("queueReason") else ""
                raise TimeoutError(f"job {job_id} is {current}{waiting}, not {state or 'finished'}, after {timeout:g} s")
            time.sleep(min(interval, left))

    def logs(self, job_id: str, replica: str = "trainer-0", follow: bool = False, tail: Optional[int] = None,
             timeout: Optional[float] = None) -> Iterator[str]:
        """Yield the replica's output line by line: all of it (or the last ``tail`` lines).

        With ``follow`` it keeps yielding new lines as the replica writes them
        (long-polling the platform) until the replica has ended and every line
        is shipped, or ``timeout`` seconds pass.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        after: Optional[int] = None
        pending = ""
        first = True
        while True:
            wait = 0
            if follow and not first:
                wait = 20 if deadline is None else max(0, min(20, int(deadline - time.monotonic())))
            params = {"replica": replica, "after": after, "tail": tail if first else None, "wait": wait or None}
            page = self.client.request("GET", f"/jobs/{_quote(job_id)}/logs", params=params)
            first = False
            for chunk in page.get("chunks", []):
                pending += chunk.get("text", "")
                *lines, pending = pending.split("\n")
                yield from lines
            if page.get("next") is not None:
                after = page["next"]
            if not follow or page.get("finished") or (deadline is not None and time.monotonic() >= deadline):
                if pending:
                    yield pending
                return

    def download_logs(self, job_id: str, path: str, replica: str = "trainer-0") -> int:
        """Save the replica's whole output to ``path``; return the bytes written."""
        written = 0
        with self.client.request_raw("GET", f"/jobs/{_quote(job_id)}/logs/download", params={"replica": replica}) as response, \
                open(path, "wb") as out:
            while True:
                block = response.read(1 << 16)
                if not block:
                    return written
                out.write(block)
                written += len(block)

    def report_progress(self, fraction: float, message: str = "", job_id: Optional[str] = None) -> Dict[str, Any]:
        """Tell the platform how far the job is (0 to 1) and what it does; shown on the job dashboard.

        Inside a job, with its own key (``PLATFORM_API_KEY``) and id
        (``PLATFORM_JOB_ID``) from the environment.
        """
        if not 0.0 <= float(fraction) <= 1.0:
            raise ValueError(f"fraction must be from 0 to 1, got {fraction!r}")
        job = job_id or _current_job_id()
        return self.client.request("POST", f"/jobs/{_quote(job)}/progress", json={"fraction": float(fraction), "message": message})


def code_dataset_name(job_name: str) -> str:
    """The dataset a job's uploaded code goes to: the job's name in lower case, letters and digits, then ``-code``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", job_name.lower()).strip("-._")[:90] or "job"
    return f"{slug}-code"


def create_cloud_job(
    name: str,
    num_trainer: int = 1,
    mem_per_trainer: Memory = None,
    gpu_per_trainer: Optional[int] = None,
    cpu_per_trainer: Optional[float] = None,
    num_ps: int = 0,
    mem_per_ps: Memory = None,
    cpu_per_ps: Optional[float] = None,
    command: Command = None,
    *,
    client: Optional["Client"] = None,
    **kwargs: Any,
) -> Dict[str, Any]:
    """PaddlePaddle Cloud's ``create_cloud_job``: submit a job of trainers and parameter servers.

    Inside a provisioned notebook it needs no configuration (the notebook's
    environment names the platform and a key). ``command`` defaults to
    ``python3 train.py``; ``code_dir`` (for instance ``"."``) uploads that
    folder so the job starts with your files. Other keywords are ``submit``'s.
    """
    from .client import default_client

    jobs = Jobs(client or default_client())
    if command is None and kwargs.get("module") is None and kwargs.get("image") is None:
        command = "python3 train.py"
    return jobs.submit(name, command, num_trainer=num_trainer, mem_per_trainer=mem_per_trainer,
                       gpu_per_trainer=gpu_per_trainer, cpu_per_trainer=cpu_per_trainer, num_ps=num_ps,
                       mem_per_ps=mem_per_ps, cpu_per_ps=cpu_per_ps, **kwargs)


def report_progress(fraction: float, message: str = "") -> Dict[str, Any]:
    """From inside a job: report how far it is (0 to 1); see ``Jobs.report_progress``."""
    from .client import default_client

    return Jobs(default_client()).report_progress(fraction, message)


def _current_job_id() -> str:
    job_id = os.environ.get(ENV_JOB_ID, "").strip()
    if not job_id:
        raise LookupError(f"not inside a job: ${ENV_JOB_ID} is not set")
    return job_id


def _quote(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")
