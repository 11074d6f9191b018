"""Starts an export on a real Backflow and waits for its span, three ways: export_and_wait, the
Airflow sensor, and the Kubeflow Pipelines component.

Environment: BACKFLOW_URL, BACKFLOW_API_KEY (a key with export:write), BACKFLOW_PROJECT, and
BACKFLOW_STEP: "wait" (export_and_wait, then again with nothing to export), "airflow" or "kfp".
Airflow and kfp are not installed here: the step puts in front of them the few names the client
imports (BaseSensorOperator and PokeReturnValue, dsl.component), so what runs against the server
is the client's own code. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import types
from typing import Any, Dict

import backflow_client


def fake_airflow() -> None:
    """The names the sensor imports, as Airflow 2.x defines them (poke returning PokeReturnValue)."""
    airflow = types.ModuleType("airflow")
    exceptions = types.ModuleType("airflow.exceptions")
    sensors = types.ModuleType("airflow.sensors")
    base = types.ModuleType("airflow.sensors.base")

    class AirflowException(Exception):
        pass

    class PokeReturnValue:
        def __init__(self, is_done: bool, xcom_value: Any = None) -> None:
            self.is_done = is_done
            self.xcom_value = xcom_value

    class BaseSensorOperator:
        def __init__(self, task_id: str, **kwargs: Any) -> None:
            self.task_id = task_id
            self.kwargs = kwargs

    exceptions.AirflowException = AirflowException  # type: ignore[attr-defined]
    base.BaseSensorOperator = BaseSensorOperator  # type: ignore[attr-defined]
    base.PokeReturnValue = PokeReturnValue  # type: ignore[attr-defined]
    sys.modules.update({"airflow": airflow, "airflow.exceptions": exceptions, "airflow.sensors": sensors, "airflow.sensors.base": base})


class TaskInstance:
    """XCom as a task instance keeps it between pokes."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.xcom: Dict[str, Any] = {}

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return self.xcom.get(key)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def fake_kfp() -> None:
    kfp = types.ModuleType("kfp")
    dsl = types.ModuleType("kfp.dsl")
    dsl.component = lambda base_image=None: (lambda function: function)  # type: ignore[attr-defined]
    kfp.dsl = dsl  # type: ignore[attr-defined]
    sys.modules.update({"kfp": kfp, "kfp.dsl": dsl})


def main() -> int:
    url, key, project, step = (os.environ[name] for name in ("BACKFLOW_URL", "BACKFLOW_API_KEY", "BACKFLOW_PROJECT", "BACKFLOW_STEP"))
    if step == "wait":
        seen = []
        job = backflow_client.export_and_wait(url, key, project, poll_interval=0.2, on_progress=lambda j: seen.append(j["state"]))
        again = backflow_client.export_and_wait(url, key, project, poll_interval=0.2)
        print(json.dumps({"job": job, "states": seen, "again": again}))
    elif step == "airflow":
        fake_airflow()
        sensor = backflow_client.airflow_export_sensor("wait_for_span", url, project, api_key=key, poke_interval=30, mode="reschedule")
        ti = TaskInstance("wait_for_span")
        pokes = []
        for _ in range(200):
            result = sensor.poke({"ti": ti})
            pokes.append(result.is_done)
            if result.is_done:
                break
        print(json.dumps({"job": result.xcom_value, "pokes": len(pokes), "kwargs": sensor.kwargs, "xcomJob": ti.xcom.get("backflow_job")}))
    elif step == "kfp":
        fake_kfp()
        component = backflow_client.kfp_export_component()
        print(json.dumps({"location": component(url, project, key, 120.0, 0.2)}))
    else:
        print(f"smoke_export: unknown BACKFLOW_STEP {step}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
