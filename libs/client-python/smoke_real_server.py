"""Sends 1,000 predictions and 200 feedback events to a real Backflow, then re-sends the predictions.

Environment: BACKFLOW_URL, BACKFLOW_API_KEY, BACKFLOW_PROJECT (a project with labels ham and spam).
Prints one JSON line; exits 0 when the server stored everything once and counted the re-send as
duplicates, 1 when a counter is off, 2 when the environment is incomplete.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any, Dict, List

from backflow_client import BackflowClient

PREDICTIONS = 1000
FEEDBACK = 200
BATCH_SIZE = 200


def make_prediction(n: int) -> Dict[str, Any]:
    spam = (n * 37 % 100) / 100
    return {
        # every other one under the model server's own request id (the rest get a UUID from the client)
        **({"id": f"req-smoke/{n}"} if n % 2 else {}),
        "model": {"name": "spam-filter", "version": "2.0.1"},
        "input": {
            "subject": f"Message {n}",
            "sender_domain": ["example.com", "example.org", "mail.test"][n % 3],
            "length": 80 + n % 400,
            "links": n % 7,
            "has_attachment": n % 5 == 0,
            "hour": n % 24,
            "language": ["en", "fr", "de"][n % 3],
            "reputation": round((n % 10) / 10, 2),
            "exclamations": n % 4,
            "tokens": ["hello", "offer", f"t{n % 13}"],
        },
        "scores": {"ham": round(1 - spam, 2), "spam": spam},
        "slice": {"country": ["FR", "DE", "US", "BR"][n % 4], "device": "mobile" if n % 2 else "desktop"},
        "timestamp": dt.datetime.now(dt.timezone.utc),
    }


def collect(client: BackflowClient) -> Dict[str, Dict[str, int]]:
    return {"total": client.stats(), "predictions": client.stats("prediction"), "feedback": client.stats("feedback")}


def main() -> int:
    try:
        url, key, project = (os.environ[name] for name in ("BACKFLOW_URL", "BACKFLOW_API_KEY", "BACKFLOW_PROJECT"))
    except KeyError as missing:
        print(f"smoke_real_server: set {missing.args[0]}", file=sys.stderr)
        return 2

    errors: List[str] = []
    report = lambda error: errors.append(str(error))  # noqa: E731
    reject = lambda kind, item, rejection: errors.append(f"{kind} {item.get('id')} rejected: {rejection}")  # noqa: E731

    sent: List[Dict[str, Any]] = []
    with BackflowClient(url, key, project, batch_size=BATCH_SIZE, on_error=report, on_rejected=reject) as first:
        for n in range(PREDICTIONS):
            prediction = make_prediction(n)
            prediction["id"] = first.predict(prediction)
            sent.append(prediction)
        for n in range(FEEDBACK):
            first.feedback({"id": f"smoke-click-{sent[n]['id']}", "predictionId": sent[n]["id"], "type": "click"})
    first_stats = collect(first)

    with BackflowClient(url, key, project, batch_size=BATCH_SIZE, on_error=report, on_rejected=reject) as second:
        for prediction in sent:
            second.predict(prediction)
    second_stats = collect(second)

    ids = {prediction["id"] for prediction in sent}
    print(json.dumps({"first": first_stats, "second": second_stats, "predictionIds": len(ids), "errors": errors}))

    expected = [
        (first_stats["predictions"], {"sent": PREDICTIONS, "accepted": PREDICTIONS, "duplicates": 0}),
        (first_stats["feedback"], {"sent": FEEDBACK, "accepted": FEEDBACK, "duplicates": 0}),
        (second_stats["predictions"], {"sent": PREDICTIONS, "accepted": 0, "duplicates": PREDICTIONS}),
    ]
    off = [
        f"{name}={stats[name]} (expected {value})"
        for stats, wanted in expected
        for name, value in {**wanted, "rejected": 0, "dropped": 0, "failed": 0, "buffered": 0}.items()
        if stats[name] != value
    ]
    if len(ids) != PREDICTIONS:
        off.append(f"{len(ids)} distinct prediction ids")
    if off or errors:
        print("smoke_real_server: " + "; ".join(off + errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
