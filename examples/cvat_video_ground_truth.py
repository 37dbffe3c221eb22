"""Recipe: migrate a CVAT video project to Labelbox as ground truth.

Export the task from CVAT as "CVAT for video 1.1" (annotations.xml). Tracks become Labelbox
video objects: one row per track, keyframes where CVAT had them plus wherever Labelbox's
linear interpolation would drift more than half a pixel from CVAT's; a track that leaves the
view starts a new segment. Polylines and masks on video are ground-truth only in Labelbox,
so this uses ``--mode ground-truth``.

Run: ``python examples/cvat_video_ground_truth.py`` (writes a small export in a temporary
folder; set LABELBOX_API_KEY and PROJECT_ID to import for real).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import converters
from labelbox_upload import labelbox_sdk, upload

TRACKS = """
<track id="0" label="car" source="manual">
  <box frame="0" outside="0" occluded="0" keyframe="1" xtl="10" ytl="20" xbr="50" ybr="50" z_order="0">
    <attribute name="parked">false</attribute></box>
  <box frame="10" outside="0" occluded="0" keyframe="1" xtl="110" ytl="20" xbr="150" ybr="50" z_order="0">
    <attribute name="parked">false</attribute></box>
  <box frame="11" outside="1" occluded="0" keyframe="1" xtl="110" ytl="20" xbr="150" ybr="50" z_order="0">
    <attribute name="parked">false</attribute></box>
</track>
<track id="1" label="lane" source="manual">
  <polyline frame="0" outside="0" occluded="0" keyframe="1" points="0,200;320,180" z_order="0"></polyline>
  <polyline frame="20" outside="0" occluded="0" keyframe="1" points="0,210;320,190" z_order="0"></polyline>
</track>
"""


def make_export(root: Path) -> Path:
    """A CVAT for video 1.1 export of one 30-frame clip."""
    path = root / "annotations.xml"
    path.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<meta><task><id>1</id><name>drive</name><size>30</size><mode>interpolation</mode>
<start_frame>0</start_frame><stop_frame>29</stop_frame><frame_filter></frame_filter>
<labels>
  <label><name>car</name><type>rectangle</type><attributes><attribute><name>parked</name><mutable>False</mutable>
  <input_type>checkbox</input_type><default_value>false</default_value><values>false</values></attribute></attributes></label>
  <label><name>lane</name><type>polyline</type><attributes></attributes></label>
</labels>
<original_size><width>320</width><height>240</height></original_size></task>
<source>drive.mp4</source></meta>
{TRACKS}
</annotations>
""", encoding="utf-8")
    return path


def run(root: Path) -> dict:
    export = make_export(root)
    out = root / "drive.ndjson"
    report = converters.convert(
        [export], out,
        mode="ground-truth",         # polylines on video import as ground truth only
        global_key="videos/{name}",  # the key the video's data row was created with
        write_ontology=root / "ontology.json",  # create the project's ontology from this
    )
    print(report.summary())
    sdk, client = labelbox_sdk()
    jobs = upload(out, project_id=os.environ.get("PROJECT_ID", "demo-project"), mode="ground-truth", sdk=sdk, client=client)
    return {"report": report, "rows": out, "client": client, "jobs": jobs}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp))
