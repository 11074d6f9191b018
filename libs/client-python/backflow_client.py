"""Backflow ingestion client: buffers predictions and feedback, sends them in batches.

Standard library only (Python 3.9+). See README.md beside this file.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import email.utils
import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple

__all__ = [
    "BackflowClient",
    "BackflowError",
    "ExportFailed",
    "PREDICTION",
    "FEEDBACK",
    "start_export",
    "export_job",
    "export_and_wait",
    "airflow_export_sensor",
    "kfp_export_component",
]
__version__ = "0.1.0"

PREDICTION = "prediction"
FEEDBACK = "feedback"
_KINDS = (PREDICTION, FEEDBACK)
_COUNTERS = ("sent", "accepted", "duplicates", "rejected", "dropped", "retries", "failed")

logger = logging.getLogger("backflow_client")

# (the caller's item with its id, the item encoded once as JSON)
_Entry = Tuple[Dict[str, Any], str]


class BackflowError(Exception):
    """A batch the client gave up on: a non-retryable reply, or retries exhausted."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        items: List[Dict[str, Any]],
        status: Optional[int] = None,
        code: Optional[str] = None,
        field: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.items = items
        self.status = status
        self.code = code
        self.field = field
        self.request_id = request_id

    def __str__(self) -> str:
        where = f"HTTP {self.status} {self.code}" if self.status else "network"
        return f"{len(self.items)} {self.kind} item(s) not delivered ({where}): {self.message}"


class _Reply:
    """One HTTP exchange: a status (None for a network error) and the decoded body."""

    def __init__(self, status: Optional[int], body: Any, retry_after: Optional[float], error: Optional[str] = None) -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.retry_after = retry_after
        self.error = error

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


class BackflowClient:
    """Sends predictions and feedback events to one Backflow project.

    Items are buffered and sent by a daemon thread every ``flush_interval`` seconds or as soon
    as ``batch_size`` of a kind are waiting. Callbacks run on the thread that sends.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        project: str,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_buffer: int = 100_000,
        max_retries: int = 8,
        initial_backoff: float = 0.2,
        max_backoff: float = 30.0,
        on_drop: Optional[Callable[[str, int], None]] = None,
        on_rejected: Optional[Callable[[str, Dict[str, Any], Dict[str, Any]], None]] = None,
        on_error: Optional[Callable[[BackflowError], None]] = None,
        timeout: float = 30.0,
    ) -> None:
        if batch_size < 1 or max_buffer < 1 or max_retries < 0 or flush_interval <= 0:
            raise ValueError("batch_size and max_buffer must be >= 1, max_retries >= 0, flush_interval > 0")
        root = base_url.rstrip("/") + "/api/v1/projects/" + urllib.parse.quote(project, safe="")
        self._urls = {PREDICTION: root + "/predictions/batch?partial=true", FEEDBACK: root + "/feedback?partial=true"}
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"backflow-client-python/{__version__}",
        }
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_buffer = max_buffer
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._on_drop = on_drop
        self._on_rejected = on_rejected
        self._on_error = on_error

        self._lock = threading.Lock()  # buffers, counters, closed flag
        # one sender at a time keeps flushes in order; re-entrant for a callback that flushes
        self._send_lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._closed = False
        self._buffers: Dict[str, Deque[_Entry]] = {kind: deque() for kind in _KINDS}
        self._counts: Dict[str, Dict[str, int]] = {kind: dict.fromkeys(_COUNTERS, 0) for kind in _KINDS}
        # lowered after a 413 so later batches do not hit the server's limit again
        self._request_limit = batch_size

        self._thread = threading.Thread(target=self._run, name="backflow-client", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- public API -------------------------------------------------------------------------

    def predict(self, prediction: Mapping[str, Any]) -> str:
        """Buffers a prediction; returns its id (yours: a UUID or a request id; a new UUID4 when none).

        The timestamp is set to now when absent, so that every retry sends the same one: the
        server knows a prediction by its id and the day of its timestamp, exactly at any distance.
        """
        item = dict(prediction)
        if item.get("id") is None:
            item["id"] = str(uuid.uuid4())
        if item.get("timestamp") is None:
            item["timestamp"] = _dt.datetime.now(_dt.timezone.utc)
        _iso(item, "timestamp")
        self._enqueue(PREDICTION, item)
        return str(item["id"])

    def feedback(self, event: Mapping[str, Any]) -> str:
        """Buffers a feedback event; returns its id (a new UUID4 when it has none)."""
        item = dict(event)
        if item.get("id") is None:
            item["id"] = str(uuid.uuid4())
        _iso(item, "occurredAt")
        self._enqueue(FEEDBACK, item)
        return str(item["id"])

    def flush(self) -> None:
        """Sends everything buffered now (predictions first) and returns when it is done."""
        self._check_open()
        self._flush()

    def close(self) -> None:
        """Flushes, then stops the background thread. Calling it again does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping.set()
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()
        self._flush()
        atexit.unregister(self.close)

    def stats(self, kind: Optional[str] = None) -> Dict[str, int]:
        """Counters since creation: for one kind ("prediction" or "feedback"), or both summed."""
        kinds = _KINDS if kind is None else (_check_kind(kind),)
        with self._lock:
            totals = {"buffered": sum(len(self._buffers[k]) for k in kinds)}
            for name in _COUNTERS:
                totals[name] = sum(self._counts[k][name] for k in kinds)
        return totals

    def __enter__(self) -> "BackflowClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- buffering --------------------------------------------------------------------------

    def _enqueue(self, kind: str, item: Dict[str, Any]) -> None:
        # encoded here so a bad value fails in the caller, not in a batch with others' items
        encoded = json.dumps(item, allow_nan=False, separators=(",", ":"))
        with self._lock:
            if self._closed:
                raise RuntimeError("BackflowClient is closed")
            buffer = self._buffers[kind]
            if len(self._buffers[PREDICTION]) + len(self._buffers[FEEDBACK]) >= self.max_buffer:
                self._counts[kind]["dropped"] += 1
                dropped = True
            else:
                buffer.append((item, encoded))
                dropped = False
                full = len(buffer) >= self.batch_size
        if dropped:
            self._callback(self._on_drop, kind, 1)
            if self._on_drop is None:
                logger.warning("backflow buffer full (%d items): dropped a %s", self.max_buffer, kind)
        elif full:
            self._wake.set()

    def _check_open(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("BackflowClient is closed")

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self._flush()
            except Exception:  # the thread must outlive any bug in one flush
                logger.exception("backflow flush failed")

    def _flush(self) -> None:
        with self._send_lock:
            with self._lock:
                taken = {kind: list(self._buffers[kind]) for kind in _KINDS}
                for kind in _KINDS:
                    self._buffers[kind].clear()
            for kind in _KINDS:
                entries = taken[kind]
                start = 0
                while start < len(entries):
                    size = min(self.batch_size, self._request_limit)
                    self._deliver(kind, entries[start : start + size])
                    start += size

    # -- sending ----------------------------------------------------------------------------

    def _deliver(self, kind: str, entries: List[_Entry]) -> None:
        """Sends one batch with retries; a 413 splits it in halves."""
        attempt = 0
        while True:
            reply = self._post(self._urls[kind], "[" + ",".join(encoded for _, encoded in entries) + "]")
            if reply.ok:
                self._record(kind, entries, reply.body)
                return
            if reply.status == 413 and len(entries) > 1:
                half = (len(entries) + 1) // 2
                with self._lock:
                    self._request_limit = min(self._request_limit, half)
                self._deliver(kind, entries[:half])
                self._deliver(kind, entries[half:])
                return
            if not reply.retryable or attempt >= self.max_retries:
                self._fail(kind, entries, reply, attempt)
                return
            delay = reply.retry_after if reply.retry_after is not None else self._backoff(attempt)
            attempt += 1
            with self._lock:
                self._counts[kind]["retries"] += 1
            time.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        # full jitter: uniform over [0, capped exponential]
        return random.uniform(0, min(self.max_backoff, self.initial_backoff * (2**attempt)))

    def _post(self, url: str, body: str) -> _Reply:
        request = urllib.request.Request(url, data=body.encode("utf-8"), headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _Reply(response.status, _json(response.read()), None)
        except urllib.error.HTTPError as error:
            try:
                payload = _json(error.read())
            except (http.client.HTTPException, OSError):
                payload = None
            finally:
                error.close()
            retryable = error.code == 429 or error.code >= 500
            return _Reply(error.code, payload, _retry_after(error.headers.get("Retry-After")) if retryable else None)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            return _Reply(None, None, None, error=str(getattr(error, "reason", error)))

    def _record(self, kind: str, entries: List[_Entry], body: Dict[str, Any]) -> None:
        rejected = body.get("rejected") or []
        with self._lock:
            counts = self._counts[kind]
            counts["sent"] += len(entries)
            counts["accepted"] += int(body.get("accepted", 0))
            counts["duplicates"] += int(body.get("duplicates", 0))
            counts["rejected"] += len(rejected)
        for rejection in rejected:
            index = rejection.get("index")
            item = entries[index][0] if isinstance(index, int) and 0 <= index < len(entries) else {}
            self._callback(self._on_rejected, kind, item, rejection)
            if self._on_rejected is None:
                logger.warning("backflow rejected a %s %s: %s", kind, item.get("id"), rejection.get("message"))

    def _fail(self, kind: str, entries: List[_Entry], reply: _Reply, attempt: int) -> None:
        with self._lock:
            self._counts[kind]["failed"] += len(entries)
        body = reply.body
        message = body.get("message") or reply.error or f"HTTP {reply.status}"
        if reply.retryable:
            message = f"{message} (gave up after {attempt + 1} attempts)"
        error = BackflowError(
            message,
            kind=kind,
            items=[item for item, _ in entries],
            status=reply.status,
            code=body.get("code"),
            field=body.get("field"),
            request_id=body.get("requestId"),
        )
        self._callback(self._on_error, error)
        if self._on_error is None:
            logger.error("%s", error)

    def _callback(self, callback: Optional[Callable[..., None]], *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a failing callback must not lose the rest of the flush
            logger.exception("backflow callback %r raised", callback)


def _check_kind(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"kind is one of {_KINDS}, not {kind!r}")
    return kind


def _iso(item: Dict[str, Any], key: str) -> None:
    """Turns a datetime into ISO-8601 with an offset; a naive one is taken as UTC."""
    value = item.get(key)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        item[key] = value.isoformat(timespec="milliseconds")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        return None


def _retry_after(header: Optional[str]) -> Optional[float]:
    """Retry-After as seconds (a number, or an HTTP date); None when absent or unreadable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return max(0.0, (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds())


# -- exports, for orchestrators ------------------------------------------------------------------
#
# A pipeline step that starts an export and waits until the span is written, then hands its
# location to the next step (ImportExampleGen's input_base, a StatisticsGen run, a training job).
# The key needs the `export:write` scope (start an export, follow its job); reading the files back
# through the API needs `export:read`.


class ExportFailed(Exception):
    """An export refused by the server (``status``, ``code``), failed there, or not written in time (``job``)."""

    def __init__(self, message: str, job: Optional[Dict[str, Any]] = None, status: Optional[int] = None, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.job = job
        self.status = status
        self.code = code


def _call(base_url: str, api_key: str, project: str, method: str, route: str, body: Any = None, timeout: float = 30.0) -> Any:
    url = base_url.rstrip("/") + "/api/v1/projects/" + urllib.parse.quote(project, safe="") + route
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json", "User-Agent": f"backflow-client-python/{__version__}"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _json(response.read())
    except urllib.error.HTTPError as error:
        payload = _json(error.read()) or {}
        error.close()
        code = payload.get("code") if isinstance(payload, dict) else None
        message = payload.get("message", "") if isinstance(payload, dict) else ""
        raise ExportFailed(f"{method} {route}: HTTP {error.code} {code or ''} {message}".strip(), status=error.code, code=code) from None


def start_export(base_url: str, api_key: str, project: str, span: Optional[int] = None, timeout: float = 30.0) -> Optional[Dict[str, Any]]:
    """Starts an export of the labels not yet exported (or a new version of `span`); its job, or None when nothing waits."""
    reply = _call(base_url, api_key, project, "POST", "/exports", {} if span is None else {"span": span}, timeout)
    return reply.get("job") if isinstance(reply, dict) else None


def export_job(base_url: str, api_key: str, project: str, job_id: str, timeout: float = 30.0) -> Dict[str, Any]:
    """An export's job as the server has it now: state, rowsWritten of rows, and once completed its location and files."""
    return _call(base_url, api_key, project, "GET", "/exports/" + urllib.parse.quote(str(job_id), safe=""), None, timeout)


def export_and_wait(
    base_url: str,
    api_key: str,
    project: str,
    span: Optional[int] = None,
    timeout: float = 3600.0,
    poll_interval: float = 5.0,
    on_progress: Optional[Callable[[Dict[str, Any]], None]] = None,
) -> Optional[Dict[str, Any]]:
    """Starts an export and waits for its span: the completed job (``location``: where the pipeline
    reads it, a path or ``s3://…``; ``span``, ``version``, ``files``), or None when every label is
    exported already. Raises ExportFailed when the server fails it or it is not done in `timeout`
    seconds (the export goes on; follow it with `export_job`)."""
    job = start_export(base_url, api_key, project, span)
    if job is None:
        return None
    deadline = time.monotonic() + timeout
    while True:
        if on_progress is not None:
            on_progress(job)
        if job["state"] == "completed":
            return job
        if job["state"] == "failed":
            raise ExportFailed(f"span {job['span']} version {job['version']} failed: {job.get('error')}", job)
        if time.monotonic() >= deadline:
            raise ExportFailed(f"span {job['span']} version {job['version']} not written after {timeout:g} s ({job['rowsWritten']}/{job['rows']} rows)", job)
        time.sleep(min(poll_interval, max(0.0, deadline - time.monotonic())))
        job = export_job(base_url, api_key, project, job["id"])


def airflow_export_sensor(task_id: str, base_url: str, project: str, api_key: Optional[str] = None, api_key_variable: str = "backflow_export_key", **kwargs: Any) -> Any:
    """An Airflow sensor that starts an export on its first poke and succeeds when the span is
    written, pushing the job (``location``, ``span``, ``version``) to XCom as its return value.
    Imports Airflow only when called. The key comes from `api_key` or the Airflow Variable
    `api_key_variable`. Other keyword arguments go to BaseSensorOperator (poke_interval, timeout,
    mode="reschedule", …). A run with nothing to export succeeds with None."""
    from airflow.exceptions import AirflowException  # imported here: the client needs no Airflow
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue

    class BackflowExportSensor(BaseSensorOperator):
        template_fields = ("project",)

        def __init__(self, **sensor_kwargs: Any) -> None:
            super().__init__(**sensor_kwargs)
            self.base_url = base_url
            self.project = project

        def _key(self) -> str:
            if api_key is not None:
                return api_key
            from airflow.models import Variable

            return Variable.get(api_key_variable)

        def poke(self, context: Any) -> Any:
            ti = context["ti"]
            # the job this try started, kept in XCom so a rescheduled poke follows it instead of starting another
            job_id = ti.xcom_pull(task_ids=ti.task_id, key="backflow_job")
            if job_id is None:
                job = start_export(self.base_url, self._key(), self.project)
                if job is None:
                    return PokeReturnValue(is_done=True, xcom_value=None)
                ti.xcom_push(key="backflow_job", value=job["id"])
            else:
                job = export_job(self.base_url, self._key(), self.project, job_id)
            if job["state"] == "failed":
                raise AirflowException(f"Backflow export of span {job['span']} failed: {job.get('error')}")
            return PokeReturnValue(is_done=job["state"] == "completed", xcom_value=job if job["state"] == "completed" else None)

    return BackflowExportSensor(task_id=task_id, **kwargs)


def kfp_export_component(base_image: str = "python:3.11-slim") -> Any:
    """A Kubeflow Pipelines (v2) component: starts an export, waits for the span and returns its
    location (an ``s3://`` URI when the export root is a bucket) for the next step. Imports kfp only
    when called. The component is self-contained (the image needs nothing but Python)."""
    from kfp import dsl  # imported here: the client needs no kfp

    @dsl.component(base_image=base_image)
    def backflow_export(base_url: str, project: str, api_key: str, timeout_seconds: float = 3600.0, poll_seconds: float = 5.0) -> str:
        import json
        import time
        import urllib.parse
        import urllib.request

        root = base_url.rstrip("/") + "/api/v1/projects/" + urllib.parse.quote(project, safe="")

        def call(method: str, route: str, body: object = None) -> dict:
            data = None if body is None else json.dumps(body).encode("utf-8")
            headers = {"Authorization": "Bearer " + api_key, "Content-Type": "application/json"}
            with urllib.request.urlopen(urllib.request.Request(root + route, data=data, headers=headers, method=method), timeout=30) as reply:
                return json.loads(reply.read().decode("utf-8"))

        job = call("POST", "/exports", {})["job"]
        if job is None:
            raise RuntimeError("nothing to export: every label is in a span already")
        deadline = time.monotonic() + timeout_seconds
        while job["state"] not in ("completed", "failed"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"span {job['span']} not written after {timeout_seconds} s")
            time.sleep(poll_seconds)
            job = call("GET", "/exports/" + job["id"])
        if job["state"] == "failed":
            raise RuntimeError(f"span {job['span']} failed: {job['error']}")
        return job["location"]

    return backflow_export
