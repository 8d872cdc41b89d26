"""Wall time of whole runs of the entry point, process start to exit (median of repeats).

Default: batch 1024 for 15 epochs, the work the issue compares against the replaced
implementation (about 200 ms per step there: 105 steps ≈ 21 s plus its start-up).

    python benchmarks/bench_whole_run.py [--repeats 3] [extra Hydra overrides ...]
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTRY_POINT = Path(__file__).resolve().parents[1] / "experiments" / "grokking" / "train_grokking.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("overrides", nargs="*", default=["training.batch_size=1024", "training.epochs=15"])
    args = parser.parse_args()
    times = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as run_dir:
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, str(ENTRY_POINT), *args.overrides, f"hydra.run.dir={run_dir}"],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
    print(f"overrides: {' '.join(args.overrides)}")
    print(f"whole run, process start to exit: median {statistics.median(times):.2f} s over {args.repeats} ({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
