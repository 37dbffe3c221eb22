"""A stand-in for the parts of the Labelbox SDK the recipes call, so CI runs them without network.

It has the real signatures (``check_against_sdk()`` compares them with an installed
``labelbox``) and performs the SDK's client-side checks on rows: a ``dataRow`` with exactly
one of ``globalKey`` / ``id``, exactly one of ``name`` / ``schemaId``, uuids unique per data
row, at most 5,000 annotations per data row and feature. Every call is recorded on the client.
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Client:
    api_key: str | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get_dataset(self, dataset_id: str) -> Dataset:
        return Dataset(self, dataset_id)


@dataclass
class _Task:
    errors: list[Any] = field(default_factory=list)
    state: str = "FINISHED"

    def wait_until_done(self, sleep_time_seconds: int = 10, show_progress: bool = False) -> None:
        return None

    def wait_till_done(self, timeout_seconds: float = 300.0, check_frequency: float = 2.0) -> None:
        return None


@dataclass
class Dataset:
    client: Client
    uid: str

    def create_data_rows(self, items: list[dict[str, Any]], file_upload_thread_count: int = 20) -> _Task:
        for item in items:
            if not isinstance(item.get("row_data"), str) or not item.get("global_key"):
                raise ValueError(f"data row needs row_data and global_key: {item}")
        self.client.calls.append(("create_data_rows", {"dataset": self.uid, "items": items}))
        return _Task()


def _check_rows(rows: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    per_feature: Counter[tuple[str, str]] = Counter()
    for row in rows:
        dr = row.get("dataRow")
        if not isinstance(dr, dict) or ("globalKey" in dr) == ("id" in dr):
            raise ValueError(f"row needs a dataRow with exactly one of globalKey, id: {row}")
        if ("name" in row) == ("schemaId" in row):
            raise ValueError(f"row needs exactly one of name, schemaId: {row}")
        key = json.dumps(dr, sort_keys=True)
        if "uuid" in row:
            if (key, row["uuid"]) in seen:
                raise ValueError(f"uuid {row['uuid']} repeats on one data row")
            seen.add((key, row["uuid"]))
        per_feature[(key, row.get("name") or row["schemaId"])] += 1
    if per_feature and max(per_feature.values()) > 5000:
        raise ValueError("more than 5,000 annotations of one feature on one data row")


class MALPredictionImport:
    @classmethod
    def create_from_objects(cls, client: Client, project_id: str, name: str, predictions: list[dict[str, Any]]) -> _Task:
        _check_rows(predictions)
        client.calls.append(("MALPredictionImport", {"project_id": project_id, "name": name, "rows": predictions}))
        return _Task()


class LabelImport:
    @classmethod
    def create_from_objects(cls, client: Client, project_id: str, name: str, labels: list[dict[str, Any]]) -> _Task:
        _check_rows(labels)
        client.calls.append(("LabelImport", {"project_id": project_id, "name": name, "rows": labels}))
        return _Task()


def check_against_sdk() -> list[str]:
    """Differences between these signatures and the installed ``labelbox`` SDK's (empty: none)."""
    import labelbox as lb
    from labelbox.schema.task import DataUpsertTask

    pairs = [
        (MALPredictionImport.create_from_objects, lb.MALPredictionImport.create_from_objects),
        (LabelImport.create_from_objects, lb.LabelImport.create_from_objects),
        (_Task.wait_until_done, lb.MALPredictionImport.wait_until_done),
        (_Task.wait_till_done, DataUpsertTask.wait_till_done),
        (Dataset.create_data_rows, lb.Dataset.create_data_rows),
        (Client.get_dataset, lb.Client.get_dataset),
    ]
    problems = []
    for ours, theirs in pairs:
        a = [p for p in inspect.signature(ours).parameters if p not in ("self", "cls")]
        b = [p for p in inspect.signature(theirs).parameters if p not in ("self", "cls")]
        if a != b:
            problems.append(f"{theirs.__qualname__}: SDK takes {b}, the fake {a}")
    for name in ("errors",):
        if not hasattr(lb.MALPredictionImport, name) or not hasattr(DataUpsertTask, name):
            problems.append(f"the SDK's jobs have no {name!r}")
    return problems


if __name__ == "__main__":
    found = check_against_sdk()
    print("\n".join(found) or "fake_labelbox matches the installed labelbox SDK")
    raise SystemExit(1 if found else 0)
