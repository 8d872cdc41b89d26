"""What the `hdf5` sink costs: training with it versus without it (target ratio ≤ 1.03).

    python benchmarks/bench_hdf5.py [--steps 400] [--repeats 5]
"""
import argparse

from plugin_overhead import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    report(["hdf5"], args.steps, args.repeats)


if __name__ == "__main__":
    main()
