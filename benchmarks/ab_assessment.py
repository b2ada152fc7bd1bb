"""``POST /v1/assessments`` of this tree against an earlier revision, side by side, with the floor.

    .venv/bin/python benchmarks/ab_assessment.py --base c68ffa7 [--rounds 5] [--n 300] [--load 8]
    .venv/bin/python benchmarks/ab_assessment.py --base HEAD --base-env IPRISK_RATE_LIMIT_PER_MINUTE=0
    .venv/bin/python benchmarks/ab_assessment.py --base a73ed3b --base-home /tmp/base-home [--load 8]

Checks ``--base`` out into a temporary git worktree, serves it and this tree
at the same time (same uvicorn settings as ``bench_assessment``, same model
store, a new SQLite file each), and then alternates, round after round: the
floor (a), N sequential requests to the base, N to this tree.  Medians per
round and the median of the rounds are printed; the ratio this/base is the
figure to quote, since both sides saw the same machine.  With ``--load S``
each round also runs S seconds of closed-loop load at 16 clients against
each side, and the throughput ratio is printed the same way; the server CPU
time per sequential request (user + system, from ``/proc``) for both sides.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx
from bench_assessment import InProcess, ensure_store, with_database
from cases import make_cases
from load import closed_loop_load, http_poster, time_calls
from servers import make_key, serve_iprisk, store_for

from models_store import ModelStore

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=300, help="sequential requests per side and round")
    ap.add_argument("--load", type=float, default=0.0, help="seconds of load at --clients per side and round")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument(
        "--base-home",
        type=Path,
        default=None,
        help="a home the base code bootstrapped (its own model store and signing key), for a base that cannot "
        "read this tree's models (e.g. a model with inputs the base does not know); each side serves its own",
    )
    ap.add_argument(
        "--base-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the base server only (repeatable), e.g. to compare a setting on one tree",
    )
    args = ap.parse_args(argv)
    settings = ensure_store(args.home)
    cases = make_cases(args.n + 20)
    payloads = [c.payload for c in cases]
    local = InProcess(ModelStore(settings.store_path), cases)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        base_tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(base_tree), args.base],
            check=True,
            capture_output=True,
        )
        stack.callback(
            subprocess.run,
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)],
            check=False,
            capture_output=True,
        )
        sides, servers, keys = {}, {}, {}
        for name, tree in (("base", base_tree), ("this", REPO)):
            side = with_database(settings, Path(tmp) / f"{name}.db")
            key = make_key(tree, side, label=f"ab {name}")
            # the rate limit's work is measured, never its refusals
            env = {
                "IPRISK_MODEL_STORE": str(store_for(tree, settings.store_path, Path(tmp) / name)),
                "IPRISK_RATE_LIMIT_PER_MINUTE": "1000000",
                "IPRISK_RATE_LIMIT_BURST": "100000",
            }
            if name == "base":
                if args.base_home is not None:
                    env["IPRISK_HOME"] = str(args.base_home)
                    env["IPRISK_MODEL_STORE"] = str(args.base_home / "models")
                env.update(kv.split("=", 1) for kv in args.base_env)
            server = stack.enter_context(
                serve_iprisk(side, Path(tmp) / f"{name}.log", name=name, app_dir=tree, env=env)
            )
            servers[name], keys[name] = server, key
            client = stack.enter_context(
                httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {key}"})
            )
            sides[name] = http_poster(client, "/v1/assessments")
        rounds: dict[str, list[float]] = {"floor": [], "base": [], "this": []}
        rps: dict[str, list[float]] = {"base": [], "this": []}
        cpu: dict[str, list[float]] = {"base": [], "this": []}  # server CPU seconds per sequential request
        for r in range(args.rounds):
            rounds["floor"].append(statistics.median(time_calls(local.floor, local.matrices, n=args.n, warmup=20)))
            for name, post in sides.items():
                cpu0 = servers[name].cpu_seconds()
                rounds[name].append(statistics.median(time_calls(post, payloads, n=args.n, warmup=20)))
                cpu[name].append((servers[name].cpu_seconds() - cpu0) / (args.n + 20))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1] * 1e3:.2f} ms" for k, v in rounds.items()), flush=True)
            if args.load > 0:
                for name, server in servers.items():
                    res = closed_loop_load(
                        server.url,
                        "/v1/assessments",
                        payloads,
                        clients=args.clients,
                        duration=args.load,
                        headers={"Authorization": f"Bearer {keys[name]}"},
                    )
                    if res.errors:
                        raise RuntimeError(f"{name}: {res.errors} failed requests under load")
                    rps[name].append(res.throughput_rps)
                print(
                    f"         load at {args.clients} clients: base {rps['base'][-1]:.1f} req/s, "
                    f"this {rps['this'][-1]:.1f} req/s",
                    flush=True,
                )
    med = {k: statistics.median(v) * 1e3 for k, v in rounds.items()}
    ratios = [t / b for b, t in zip(rounds["base"], rounds["this"], strict=True)]
    print(
        f"\nmedian of {args.rounds} rounds: floor {med['floor']:.2f} ms, base ({args.base}) {med['base']:.2f} ms, "
        f"this tree {med['this']:.2f} ms; this/base {statistics.median(ratios):.3f} "
        f"(per round {', '.join(f'{x:.3f}' for x in ratios)})"
    )
    cpu_med = {k: statistics.median(v) * 1e3 for k, v in cpu.items()}
    print(
        f"server CPU per sequential request: base {cpu_med['base']:.2f} ms, this tree {cpu_med['this']:.2f} ms; "
        f"this/base {cpu_med['this'] / cpu_med['base']:.3f}"
    )
    if rps["base"]:
        load_ratios = [t / b for b, t in zip(rps["base"], rps["this"], strict=True)]
        print(
            f"throughput at {args.clients} clients: base {statistics.median(rps['base']):.1f} req/s, this tree "
            f"{statistics.median(rps['this']):.1f} req/s; this/base {statistics.median(load_ratios):.3f} "
            f"(per round {', '.join(f'{x:.3f}' for x in load_ratios)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
