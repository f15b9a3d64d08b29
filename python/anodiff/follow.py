"""anodiff.follow: the post-analysis of a trajectory that is still being recorded, one part at a time."""
import os
import time

from ._anodiff import _Follower, write_post_analysis


def follow(path, part_length, *, out=None, plots=False, poll_seconds=2.0, until_snapshots=0, until_epoch=0,
           idle_seconds=0.0, shards=0, layout="auto", log=None, **analysis):
    """Yields the PartResult of each part of `part_length` snapshots of the trajectory at `path` as soon as its
    snapshots are in complete chunks, while a writer (anodiff.Recorder, anodiff-train; sharded too) appends more.

        for part in anodiff.follow("runs/mine/trajectory", 1000, until_epoch=30, out="runs/mine/analysis"):
            print(part.part.index, part.fit.early_exponent, part.fit.late_exponent)

    The results are post_analysis()'s on the finished run, bit for bit (a part's analysis reads only its own
    snapshots). It waits for more with inotify (at most `poll_seconds` between two looks) and ends when
    `until_snapshots` snapshots or epoch `until_epoch` are recorded (docs/msd.md: the epoch is whole when a later
    one starts, anodiff-train's metrics.csv has its row, or it has as many snapshots as epoch 1), after
    `idle_seconds` without a new chunk, or when the caller stops iterating (Ctrl-C: KeyboardInterrupt reaches the
    caller, with every part yielded so far written). `out`: a directory where msd.csv, fit.csv, ... (as
    anodiff-post-analysis writes them; `plots` draws the PNGs) get the rows of every new part appended.
    `shards`: a sharded writer's number of shards when they start one by one (0: found). `layout`, `log` and the
    other keyword arguments (window, short_band, long_band, fit, exact_limit, ...) are post_analysis()'s.
    Raises ValueError at once for part_length 0 or options that do not fit a part; while iterating, the loader's
    errors once a damaged trajectory has stayed damaged for 5 looks and 30 s.
    """
    if int(part_length) <= 0:
        raise ValueError(f"anodiff.follow: part_length must be positive (a part must end before the run does), "
                         f"got {part_length}")
    follower = _Follower(os.fspath(path), int(part_length), poll_seconds=poll_seconds,
                         until_snapshots=until_snapshots, until_epoch=until_epoch, shards=shards, layout=layout,
                         log=log, **analysis)
    return _follow(follower, out, plots, idle_seconds, log)  # the options are checked now, not at the first part


def _follow(follower, out, plots, idle_seconds, log):
    given, written, seen, last_growth = 0, 0, 0, time.monotonic()
    while True:
        follower.look()
        if follower.snapshots() != seen:
            seen, last_growth = follower.snapshots(), time.monotonic()
        new = follower.parts_from(given)
        if new and out is not None:  # the new parts' rows appended (the first write makes the files anew)
            parts = follower.parts_from(0)
            write_post_analysis(parts, out, plots=plots, log=log, first_new=written)
            written = len(parts)
        for part in new:
            given += 1
            yield part
        if follower.finished():
            return
        if idle_seconds > 0 and time.monotonic() - last_growth >= idle_seconds:
            return
        follower.wait()
