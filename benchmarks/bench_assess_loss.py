"""What the lifetime PD and the lgd model add to one assessment, in process, interleaved.

    .venv/bin/python benchmarks/bench_assess_loss.py [--home /tmp/bench-home] [--rounds 7] [--n 300]

Times ``scoring.pipeline.run_assessment`` on the same cases and champions two ways, round
after round: without the lgd model (the legacy LGD haircut; the lifetime PD is one power, always
on) and with it (its input row, its exact TreeSHAP, its reasons). The median per round and the
median of the rounds are printed, and the difference is the added models' cost per assessment.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from functools import partial
from pathlib import Path

from bench_assessment import InProcess, ensure_store
from cases import AS_OF, Case, make_cases
from load import time_calls

from models_store import ModelStore
from scoring.lgd import estimate_lgd, lgd_matrix
from scoring.pipeline import run_assessment


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args(argv)
    settings = ensure_store(args.home)
    cases = make_cases(args.n + 20)
    local = InProcess(ModelStore(settings.store_path), cases)

    def assess(c: Case, *, with_lgd: bool) -> None:
        run_assessment(
            local.valuation,
            local.pd,
            borrower=c.borrower,
            loan=c.loan,
            patents=c.patents,
            as_of=AS_OF,
            config=local.config,
            caps=local.caps,
            lgd_model=local.lgd if with_lgd else None,
        )

    def lgd_step(c: Case) -> None:
        """The lgd model's own work in an assessment: its input row, TreeSHAP, reasons."""
        x = lgd_matrix(local.lgd, borrower=c.borrower, loan=c.loan, patents=c.patents, as_of=AS_OF, package_value=1e6)
        estimate_lgd(local.lgd, x, floor=0.25, texts=local.config.reasons.lgd, as_of=AS_OF)

    step = statistics.median(time_calls(lgd_step, cases, n=10 * args.n, warmup=50)) * 1e3
    print(f"the lgd step alone (input row, exact TreeSHAP, reasons): median {step:.3f} ms", flush=True)
    medians: dict[str, list[float]] = {"without": [], "with": []}
    for r in range(args.rounds):
        for name in medians:
            with_lgd = name == "with"
            times = time_calls(partial(assess, with_lgd=with_lgd), cases, n=args.n, warmup=20)
            medians[name].append(statistics.median(times))
        print(
            f"round {r + 1}: without lgd {medians['without'][-1] * 1e3:.3f} ms, "
            f"with lgd {medians['with'][-1] * 1e3:.3f} ms",
            flush=True,
        )
    without, with_ = (statistics.median(v) * 1e3 for v in medians.values())
    diffs = [(b - a) * 1e3 for a, b in zip(medians["without"], medians["with"], strict=True)]
    print(
        f"\nmedian of {args.rounds} rounds: without the lgd model {without:.3f} ms, with it {with_:.3f} ms; "
        f"added {statistics.median(diffs):.3f} ms (per round {', '.join(f'{d:.3f}' for d in diffs)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
