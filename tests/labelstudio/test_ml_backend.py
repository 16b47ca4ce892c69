"""`tradeie ls backend`: a trained run served as a Label Studio ML backend, against the real server."""

from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]

TEXT = (
    "India and the United States signed an interim trade agreement on Monday. "
    "Washington cut tariffs on goods from India to 18%.\n"
)


def test_task_receives_prediction_from_backend(ls_env, tiny_run):
    from tradeie.document import Document
    from tradeie.labelstudio.format import to_tasks
    from tradeie.labelstudio.backend import HOST, connect_backend, predict_tasks, serve
    from tradeie.labelstudio.client import connect, ensure_project, import_tasks
    from tradeie.predict import Pipeline
    from tradeie.schema import labeling_config

    server = serve(str(tiny_run), port=0, model_version="tiny-backend")
    try:
        assert server.server_address[0] == HOST
        with urllib.request.urlopen(f"{server.url}/health", timeout=5) as response:
            assert json.load(response)["status"] == "UP"
        conn = connect()
        project_id, _ = ensure_project(conn, "ML backend test", labeling_config())
        doc = Document(id="backend-doc", text=TEXT)
        (task_id,) = import_tasks(conn, project_id, to_tasks([doc], include_annotations=False))
        backend_id = connect_backend(conn, "ML backend test", server.url)
        assert connect_backend(conn, "ML backend test", server.url) == backend_id  # reused, not duplicated
        conn.client.actions.create(
            id="retrieve_tasks_predictions", project=project_id, selected_items={"all": False, "included": [task_id]}
        )
        predictions = conn.client.predictions.list(task=task_id)
    finally:
        server.shutdown()
        server.server_close()
    expected = predict_tasks(Pipeline.load(tiny_run), [{"id": task_id, "data": {"text": TEXT}}], "tiny-backend")[0]
    assert len(predictions) == 1
    pred = predictions[0]
    assert pred.model_version == "tiny-backend"
    assert pred.result == expected["result"]
    assert pred.score == pytest.approx(expected["score"]) if expected["score"] is not None else pred.score is None
    assert all("score" in r for r in pred.result if r["type"] in ("labels", "relation"))
