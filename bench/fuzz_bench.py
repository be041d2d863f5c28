"""Generated customers against the real stack: success rate per class and language, failing transcripts.

    python -m bench.fuzz_bench [--seed N] [--en N] [--vi N]     # writes bench/results/fuzz.json

A private PostgreSQL, the action server and the Rasa server (the trained model) on free ports, the clock
pinned (BOOKING_NOW) so the generated dates mean the same on every run. English and Vietnamese customers
are counted apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

NOW = "2026-12-01T10:00:00+07:00"  # a Tuesday, 10:00 local: the generated dates are built from it
os.environ["BOOKING_NOW"] = NOW
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core import bookings, db  # noqa: E402
from core.business import business  # noqa: E402
from core.settings import settings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz_bench")
    parser.add_argument("--seed", type=int, default=7001)
    parser.add_argument("--en", type=int, default=150, help="English customers")
    parser.add_argument("--vi", type=int, default=60, help="Vietnamese customers")
    parser.add_argument("--out", default=str(RESULTS / "fuzz.json"))
    args = parser.parse_args(argv)

    import pgserver

    from scripts import stack as launcher
    from tests.fuzz.customers import generate
    from tests.fuzz.driver import run_all, summary

    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        os.environ["DATABASE_URL"] = url = server.get_uri()
        settings.cache_clear()
        business.cache_clear()
        db.reset_pool()
        db.migrate()
        bookings.seed_catalogue()
        env = launcher.stack_env(url)
        actions_port, rasa_port = launcher.free_port(), launcher.free_port()
        env.update(ACTIONS_PORT=str(actions_port), RASA_PORT=str(rasa_port), BOOKING_NOW=NOW)
        customers = generate(args.seed, args.en, "en") + generate(args.seed + 1, args.vi, "vi")
        with (
            launcher.action_server(env, port=actions_port, log=Path(tmp) / "actions.log"),
            launcher.rasa_server(env, port=rasa_port, log=Path(tmp) / "rasa.log"),
        ):
            started = time.perf_counter()  # the conversations, not the servers' start
            results = []
            for n, customer in enumerate(customers, 1):
                results += run_all(f"http://127.0.0.1:{rasa_port}", [customer])
                if n % 25 == 0:
                    print(f"{n}/{len(customers)} conversations, {sum(r.ok for r in results)} passed", flush=True)
        seconds = time.perf_counter() - started
        db.reset_pool()
        server.cleanup()

    figures = {
        "command": f"python -m bench.fuzz_bench --seed {args.seed} --en {args.en} --vi {args.vi}",
        "seed": args.seed,
        "now": NOW,
        "conversations": len(results),
        "seconds": round(seconds, 1),
        "seconds_per_conversation": round(seconds / max(1, len(results)), 2),
        "summary": summary(results),
        "failures": [r.as_dict() for r in results if not r.ok],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
    for lang, figs in figures["summary"].items():
        print(f"{lang}: {figs['ok']}/{figs['n']} ({figs['rate']:.1%})")
        for klass, f in figs["classes"].items():
            print(f"  {klass:22} {f['ok']:3}/{f['n']:<3} {f['rate']:.0%}")
        print(f"  failures by kind: {figs['failure_kinds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
