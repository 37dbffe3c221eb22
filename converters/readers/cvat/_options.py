"""The CVAT reader's options (CLI flags ``--cvat-*``), apart from the reader so its helpers can
take them without importing the reader."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import OptionsError
from ..base import check_options, option

__all__ = ["CVATOptions"]


def _tolerance(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("the keyframe tolerance must be > 0")
    return value


@dataclass(frozen=True, slots=True)
class CVATOptions:
    """Options of the CVAT reader (CLI flags ``--cvat-*``)."""

    ellipse: str = option(
        "polygon", help="ellipses become an inscribed polygon (within 0.25 px) or a mask",
        flag="--cvat-ellipse", choices=("polygon", "mask"),
    )
    rotated_box: str = option(
        "polygon", help="rotated boxes on images become a 4-point polygon or their axis-aligned "
        "bounding box (always the bounding box in video tracks)",
        flag="--cvat-rotated-box", choices=("polygon", "bbox"),
    )
    groups: str = option(
        "report", help="group_id: report it as not representable, or keep it as a nested 'group' radio",
        flag="--cvat-groups", choices=("report", "attribute"),
    )
    occluded: str = option(
        "attribute", help="occluded=1: a nested 'occluded' radio answered 'true', or drop it (tallied)",
        flag="--cvat-occluded", choices=("attribute", "drop"),
    )
    attribute_defaults: str = option(
        "fill", help="declared attributes a shape omits take their default value (fill) or are left out",
        flag="--cvat-attribute-defaults", choices=("fill", "omit"),
    )
    keypoint_name: str = option(
        "{skeleton} {point}", help="feature name of a skeleton node (fields {skeleton}, {point})",
        flag="--cvat-keypoint-name",
    )
    frames: str = option(
        "absolute", help="track 'frame' numbers are absolute source frames (CVAT's export) or "
        "task-relative indexes (start_frame + k * step)",
        flag="--cvat-frames", choices=("absolute", "relative"),
    )
    keyframe_tolerance: float = option(
        0.5, help="keep a CVAT interpolated frame as a keyframe when Labelbox's interpolation "
        "would miss it by more than this many pixels",
        flag="--cvat-keyframe-tolerance", type=_tolerance,
    )
    frame_name: str = option(
        "frame_{frame:06d}", help="image name stem of a video frame with --media image (field {frame})",
        flag="--cvat-frame-name",
    )

    def __post_init__(self) -> None:
        check_options(self)
        try:
            self.keypoint_name.format(skeleton="s", point="p")
            self.frame_name.format(frame=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise OptionsError(f"cvat name template: unknown or bad field {exc}") from None
        if not self.keyframe_tolerance > 0:
            raise OptionsError("--cvat-keyframe-tolerance must be > 0")
