#!/usr/bin/env python3
"""A live training board in a dozen lines: 10,000 steps of loss and accuracy, shown on the platform while they run.

From a notebook on the platform, a job, or a shell with an access key configured (``PLATFORM_API_URL`` and
``PLATFORM_API_KEY``, or the config file from the web UI)::

    python3 train_board.py --steps 10000 --rate 500     # 500 steps a second: the board grows live

Open the run from /Runs (a job's run is on its page too) and watch both lines grow. The training here is a
simulation (a noisy exponential decay) so the example needs nothing but the standard library.
"""

from __future__ import annotations

import argparse
import math
import random
import time

import platformsdk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0, help="steps per second (0: as fast as possible)")
    args = parser.parse_args()

    rng = random.Random(42)
    platformsdk.draw_board("loss", "accuracy", title="training")      # one chart with both series
    started = time.monotonic()
    for step in range(args.steps):
        loss = 2.0 * math.exp(-step / 2000) + rng.gauss(0, 0.02)
        accuracy = 1.0 - 0.9 * math.exp(-step / 1500) + rng.gauss(0, 0.01)
        platformsdk.log_metrics({"loss": loss, "accuracy": accuracy})  # buffered; sent every 25 ms in the background
        if args.rate:
            time.sleep(max(0.0, started + (step + 1) / args.rate - time.monotonic()))
    run = platformsdk.current_run()
    platformsdk.finish()                                               # flush and mark the run finished
    print(f"logged {args.steps} steps to run {run.id} ({run.sent} points stored, {run.dropped} dropped)")


if __name__ == "__main__":
    main()
