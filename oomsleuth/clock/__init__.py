"""Clock: boot segments and anchors -> wall-clock time with a confidence, resolved once.

:class:`~oomsleuth.clock.anchors.AnchorTracker` watches every framed line while the input is
scanned; :func:`resolve_times` then places every stamp of the result on the wall clock, and
:func:`check_suspend_drift` warns where the kernel's clock and the wall clock part.
"""

from oomsleuth.clock.anchors import AnchorTracker
from oomsleuth.clock.context import LIVE_BOOT_TIME, TimeContext, parse_boot_time
from oomsleuth.clock.copies import merge_copies
from oomsleuth.clock.drift import check_suspend_drift
from oomsleuth.clock.resolve import Clock, resolve_stamp, resolve_times

__all__ = [
    "LIVE_BOOT_TIME",
    "AnchorTracker",
    "Clock",
    "TimeContext",
    "check_suspend_drift",
    "merge_copies",
    "parse_boot_time",
    "resolve_stamp",
    "resolve_times",
]
