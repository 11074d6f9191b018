"""Tests of the ingestion client against a local HTTP server scripted per test."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Tuple

from backflow_client import BackflowClient, BackflowError

# urllib honours http_proxy: the local test server must be reached directly
os.environ["no_proxy"] = "127.0.0.1,localhost"

# (status, JSON body, extra headers)
Response = Tuple[int, Any, Dict[str, str]]


def accept_all(kind: str, items: List[Dict[str, Any]]) -> Response:
    return (200 if kind == "prediction" else 201), {"accepted": len(items), "duplicates": 0, "rejected": []}, {}


class ScriptedServer:
    """A Backflow stand-in: records every request and answers with `self.respond(kind, items)`."""

    def __init__(self) -> None:
        self.respond: Callable[[str, List[Dict[str, Any]]], Response] = accept_all
        self.requests: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                items = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kind = "feedback" if "/feedback" in self.path else "prediction"
                with outer._lock:
                    outer.requests.append({"kind": kind, "path": self.path, "headers": dict(self.headers), "items": items})
                status, body, headers = outer.respond(kind, items)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    def ids(self, kind: str = "prediction") -> List[str]:
        with self._lock:
            return [item["id"] for request in self.requests if request["kind"] == kind for item in request["items"]]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def prediction(n: int = 0) -> Dict[str, Any]:
    return {
        "model": {"name": "spam-filter", "version": "1.0"},
        "input": {"length": n, "subject": f"offer {n}", "tokens": ["free", "now"]},
        "scores": {"ham": 0.7, "spam": 0.3},
        "slice": {"country": "FR"},
    }


def error_body(code: str, message: str = "nope") -> Dict[str, Any]:
    return {"code": code, "message": message, "requestId": "req-1"}


class ClientTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.server = ScriptedServer()
        self.addCleanup(self.server.stop)

    def client(self, **options: Any) -> BackflowClient:
        settings: Dict[str, Any] = dict(flush_interval=60.0, initial_backoff=0.001, max_backoff=0.01)
        settings.update(options)
        client = BackflowClient(self.server.url, "secret-key", "spam", **settings)
        self.addCleanup(client.close)
        return client


class SendingTest(ClientTestCase):
    def test_sends_predictions_before_feedback_with_the_key_and_assigned_ids(self) -> None:
        client = self.client()
        client.feedback({"predictionId": str(uuid.uuid4()), "type": "click"})
        given = str(uuid.uuid4())
        ids = [client.predict(prediction(1)), client.predict({**prediction(2), "id": given})]
        client.flush()

        self.assertEqual([r["kind"] for r in self.server.requests], ["prediction", "feedback"])
        first = self.server.requests[0]
        self.assertEqual(first["path"], "/api/v1/projects/spam/predictions/batch?partial=true")
        self.assertEqual(first["headers"]["Authorization"], "Bearer secret-key")
        self.assertEqual(self.server.requests[1]["path"], "/api/v1/projects/spam/feedback?partial=true")
        self.assertEqual(uuid.UUID(ids[0]).version, 4)
        self.assertEqual(ids[1], given)
        self.assertEqual(self.server.ids(), ids)
        self.assertEqual(len(self.server.ids("feedback")), 1)
        self.assertEqual(
            client.stats(),
            {"buffered": 0, "sent": 3, "accepted": 3, "duplicates": 0, "rejected": 0, "dropped": 0, "retries": 0, "failed": 0},
        )
        self.assertEqual(client.stats("feedback")["accepted"], 1)

    def test_does_not_change_the_callers_dict_and_encodes_datetimes_with_an_offset(self) -> None:
        client = self.client()
        mine = {**prediction(), "timestamp": dt.datetime(2024, 5, 1, 12, 30)}
        client.predict(mine)
        client.feedback({"predictionId": str(uuid.uuid4()), "type": "click", "occurredAt": dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)})
        client.flush()
        self.assertNotIn("id", mine)
        self.assertEqual(self.server.requests[0]["items"][0]["timestamp"], "2024-05-01T12:30:00.000+00:00")
        self.assertEqual(self.server.requests[1]["items"][0]["occurredAt"], "2024-05-01T00:00:00.000+00:00")

    def test_sets_the_timestamp_once_when_absent_so_retries_carry_the_same_one(self) -> None:
        client = self.client()
        before = dt.datetime.now(dt.timezone.utc)
        client.predict(prediction())
        client.flush()
        sent = dt.datetime.fromisoformat(self.server.requests[0]["items"][0]["timestamp"])
        self.assertLessEqual(before - dt.timedelta(milliseconds=1), sent)
        self.assertLessEqual(sent, dt.datetime.now(dt.timezone.utc))

    def test_refuses_a_value_json_cannot_carry_in_the_callers_thread(self) -> None:
        client = self.client()
        with self.assertRaises(ValueError):
            client.predict({**prediction(), "scores": {"ham": float("nan"), "spam": 0.5}})
        with self.assertRaises(TypeError):
            client.predict({**prediction(), "metadata": {"when": object()}})
        self.assertEqual(client.stats()["buffered"], 0)

    def test_flushes_by_itself_at_batch_size_and_on_the_interval(self) -> None:
        by_size = self.client(batch_size=5)
        for n in range(5):
            by_size.predict(prediction(n))
        self.assertTrue(wait_for(lambda: len(self.server.ids()) == 5))

        by_time = self.client(flush_interval=0.05)
        by_time.feedback({"predictionId": str(uuid.uuid4()), "type": "click"})
        self.assertTrue(wait_for(lambda: len(self.server.ids("feedback")) == 1))

    def test_splits_a_flush_into_batches_of_batch_size(self) -> None:
        client = self.client(batch_size=4)
        ids = [client.predict(prediction(n)) for n in range(10)]
        client.flush()
        self.assertTrue(all(len(r["items"]) <= 4 for r in self.server.requests))
        self.assertEqual(self.server.ids(), ids)

    def test_many_threads_lose_and_duplicate_nothing(self) -> None:
        client = self.client(batch_size=50, flush_interval=0.01)
        ids: List[str] = []
        lock = threading.Lock()

        def produce() -> None:
            mine = [client.predict(prediction(n)) for n in range(300)]
            with lock:
                ids.extend(mine)

        threads = [threading.Thread(target=produce) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close()
        self.assertEqual(sorted(self.server.ids()), sorted(ids))
        self.assertEqual(len(set(ids)), 2400)
        self.assertEqual(client.stats()["accepted"], 2400)


class RetryTest(ClientTestCase):
    def test_retries_a_503_with_the_same_ids(self) -> None:
        calls = []

        def respond(kind: str, items: List[Dict[str, Any]]) -> Response:
            calls.append(kind)
            if len(calls) <= 2:
                return 503, error_body("database/unavailable"), {}
            return accept_all(kind, items)

        self.server.respond = respond
        errors: List[BackflowError] = []
        client = self.client(on_error=errors.append)
        ids = [client.predict(prediction(n)) for n in range(3)]
        client.flush()

        batches = [[item["id"] for item in r["items"]] for r in self.server.requests]
        self.assertEqual(batches, [ids, ids, ids])
        self.assertEqual(errors, [])
        stats = client.stats()
        self.assertEqual((stats["retries"], stats["accepted"], stats["sent"], stats["failed"]), (2, 3, 3, 0))

    def test_honours_retry_after_on_a_429(self) -> None:
        answers = iter([(429, error_body("http/too_many_requests"), {"Retry-After": "0"})])
        self.server.respond = lambda kind, items: next(answers, None) or accept_all(kind, items)
        # with these backoffs only Retry-After can make the retry quick
        client = self.client(initial_backoff=60.0, max_backoff=60.0)
        client.predict(prediction())
        started = time.monotonic()
        client.flush()
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(len(self.server.requests), 2)
        self.assertEqual(client.stats()["retries"], 1)
        self.assertEqual(client.stats()["accepted"], 1)

    def test_splits_a_batch_the_server_finds_too_large(self) -> None:
        def respond(kind: str, items: List[Dict[str, Any]]) -> Response:
            if len(items) > 3:
                return 413, error_body("predictions/batch_too_large"), {}
            return accept_all(kind, items)

        self.server.respond = respond
        errors: List[BackflowError] = []
        # below batch_size: the background thread stays asleep and the caller's flush is the only one
        client = self.client(batch_size=20, on_error=errors.append)
        ids = [client.predict(prediction(n)) for n in range(10)]
        client.flush()

        self.assertEqual([len(r["items"]) for r in self.server.requests], [10, 5, 3, 2, 5, 3, 2])
        stored = [item["id"] for r in self.server.requests if len(r["items"]) <= 3 for item in r["items"]]
        self.assertEqual(stored, ids)
        self.assertEqual(errors, [])
        self.assertEqual(client.stats()["accepted"], 10)
        self.assertEqual(client.stats()["sent"], 10)

        # the next flush starts below the limit it learned
        self.server.requests.clear()
        for n in range(6):
            client.predict(prediction(n))
        client.flush()
        self.assertEqual([len(r["items"]) for r in self.server.requests], [3, 3])

    def test_does_not_retry_a_400_and_reports_it(self) -> None:
        self.server.respond = lambda kind, items: (400, {**error_body("http/invalid_json", "body: not JSON"), "field": "body"}, {})
        errors: List[BackflowError] = []
        client = self.client(on_error=errors.append)
        ids = [client.predict(prediction(n)) for n in range(2)]
        client.flush()

        self.assertEqual(len(self.server.requests), 1)
        self.assertEqual(len(errors), 1)
        error = errors[0]
        self.assertEqual((error.status, error.code, error.field, error.request_id, error.kind), (400, "http/invalid_json", "body", "req-1", "prediction"))
        self.assertEqual([item["id"] for item in error.items], ids)
        self.assertEqual(client.stats()["failed"], 2)
        self.assertEqual(client.stats()["retries"], 0)

    def test_gives_up_after_max_retries_on_network_errors(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        errors: List[BackflowError] = []
        client = BackflowClient(f"http://127.0.0.1:{closed_port}", "k", "p", flush_interval=60, max_retries=2, initial_backoff=0.001, max_backoff=0.01, on_error=errors.append)
        self.addCleanup(client.close)
        client.feedback({"predictionId": str(uuid.uuid4()), "type": "click"})
        client.flush()

        self.assertEqual(len(errors), 1)
        self.assertIsNone(errors[0].status)
        self.assertEqual(errors[0].kind, "feedback")
        stats = client.stats()
        self.assertEqual((stats["retries"], stats["failed"], stats["sent"]), (2, 1, 0))

    def test_backoff_is_full_jitter_under_the_cap(self) -> None:
        client = self.client(initial_backoff=0.5, max_backoff=4.0)
        delays = [client._backoff(attempt) for attempt in range(10) for _ in range(50)]
        self.assertTrue(all(0 <= d <= 4.0 for d in delays))
        self.assertTrue(all(client._backoff(0) <= 0.5 for _ in range(50)))
        self.assertGreater(max(delays), 2.0)


class ReportingTest(ClientTestCase):
    def test_reports_rejected_items_with_the_item_sent(self) -> None:
        def respond(kind: str, items: List[Dict[str, Any]]) -> Response:
            rejected = [{"index": 1, "code": "predictions/invalid_scores", "field": "scores.ham", "message": "scores.ham: negative"}]
            return 200, {"accepted": len(items) - 1, "duplicates": 0, "rejected": rejected}, {}

        self.server.respond = respond
        reported: List[Tuple[str, Dict[str, Any], Dict[str, Any]]] = []
        client = self.client(on_rejected=lambda kind, item, rejection: reported.append((kind, item, rejection)))
        client.predict(prediction(0))
        bad_id = client.predict({**prediction(1), "scores": {"ham": -1, "spam": 2}})
        client.predict(prediction(2))
        client.flush()

        self.assertEqual(len(reported), 1)
        kind, item, rejection = reported[0]
        self.assertEqual(kind, "prediction")
        self.assertEqual(item["id"], bad_id)
        self.assertEqual(item["scores"], {"ham": -1, "spam": 2})
        self.assertEqual(rejection["code"], "predictions/invalid_scores")
        self.assertEqual(client.stats()["rejected"], 1)
        self.assertEqual(client.stats()["accepted"], 2)

    def test_drops_new_items_when_the_buffer_is_full(self) -> None:
        drops: List[Tuple[str, int]] = []
        client = self.client(max_buffer=3, on_drop=lambda kind, count: drops.append((kind, count)))
        kept = [client.predict(prediction(n)) for n in range(3)]
        client.predict(prediction(3))
        client.feedback({"predictionId": kept[0], "type": "click"})

        self.assertEqual(drops, [("prediction", 1), ("feedback", 1)])
        self.assertEqual(client.stats()["buffered"], 3)
        self.assertEqual(client.stats()["dropped"], 2)
        client.flush()
        self.assertEqual(self.server.ids(), kept)
        client.predict(prediction(4))  # room again after the flush
        self.assertEqual(client.stats()["dropped"], 2)

    def test_a_raising_callback_does_not_stop_the_flush(self) -> None:
        self.server.respond = lambda kind, items: (400, error_body("validation/invalid"), {})

        def explode(error: BackflowError) -> None:
            raise RuntimeError("callback bug")

        client = self.client(on_error=explode)
        client.predict(prediction())
        client.feedback({"predictionId": str(uuid.uuid4()), "type": "click"})
        with self.assertLogs("backflow_client", "ERROR"):
            client.flush()
        self.assertEqual(len(self.server.requests), 2)


class LifecycleTest(ClientTestCase):
    def test_close_flushes_stops_the_thread_and_refuses_later_calls(self) -> None:
        client = self.client()
        self.assertTrue(client._thread.is_alive())
        ids = [client.predict(prediction(n)) for n in range(3)]
        client.close()

        self.assertFalse(client._thread.is_alive())
        self.assertEqual(self.server.ids(), ids)
        with self.assertRaises(RuntimeError):
            client.predict(prediction())
        with self.assertRaises(RuntimeError):
            client.feedback({"predictionId": ids[0], "type": "click"})
        with self.assertRaises(RuntimeError):
            client.flush()
        client.close()  # a second close does nothing

    def test_close_waits_for_the_background_send_in_flight(self) -> None:
        def slow(kind: str, items: List[Dict[str, Any]]) -> Response:
            time.sleep(0.2)
            return accept_all(kind, items)

        self.server.respond = slow
        client = self.client(flush_interval=0.01)
        client.predict(prediction())
        self.assertTrue(wait_for(lambda: len(self.server.requests) == 1))
        client.close()
        self.assertFalse(client._thread.is_alive())
        self.assertEqual(client.stats()["accepted"], 1)

    def test_context_manager_closes_on_exit(self) -> None:
        with BackflowClient(self.server.url, "k", "spam", flush_interval=60) as client:
            pid = client.predict(prediction())
        self.assertFalse(client._thread.is_alive())
        self.assertEqual(self.server.ids(), [pid])

    def test_refuses_nonsense_settings(self) -> None:
        with self.assertRaises(ValueError):
            BackflowClient(self.server.url, "k", "p", batch_size=0)
        with self.assertRaises(ValueError):
            self.client().stats("label")


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


if __name__ == "__main__":
    unittest.main()
