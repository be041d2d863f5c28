"""bench/REPORT.md from the figures in bench/results/*.json, with plots beside it."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
REPORT = BENCH / "REPORT.md"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _plot(name: str, draw) -> str:
    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    draw(axes)
    figure.tight_layout()
    figure.savefig(RESULTS / f"{name}.png")
    plt.close(figure)
    return f"![{name}](results/{name}.png)"


def _rag(figures: dict) -> list[str]:
    build, latency, quality = figures["build"], figures["latency"], figures.get("quality", {})
    lines = [
        "## Knowledge index (`bench/rag_bench.py`)",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| demo documents / chunks | {build['demo_documents']} / {build['demo_chunks']} |",
        f"| demo build (model loaded) | {build['demo_build_s']} s |",
        f"| model load | {build['model_load_s']} s |",
        f"| synthetic corpus: chunks embedded and indexed per second | {build['synthetic_chunks_per_s']} "
        f"({build['synthetic_chunks']} chunks in {build['synthetic_build_s']} s) |",
        f"| rebuild with nothing changed ({build['synthetic_chunks']} chunks) | {build['synthetic_rebuild_unchanged_s']} s |",
        f"| answer look-up in the action server, p50 / p95 | {latency['lookup_ms_p50']} / {latency['lookup_ms_p95']} ms |",
        f"| action server round trip, p50 / p95 | {latency['round_trip_ms_p50']} / {latency['round_trip_ms_p95']} ms |",
    ]
    if quality:
        lines += [
            f"| recall@1 / recall@3 / MRR | {quality['recall_at_1']:.3f} / {quality['recall_at_3']:.3f} / "
            f"{quality['mrr']:.3f} |",
            f"| answered / answer precision / abstention (threshold {quality['threshold']}) | "
            f"{quality['answered']:.3f} / {quality['precision']:.3f} / {quality['abstention']:.3f} |",
        ]
    samples = latency.get("lookup_ms_samples") or []
    if samples:

        def draw(axes):
            axes.hist(samples, bins=40, color="#6b8f71")
            axes.set_xlabel("look-up time in the action server (ms)")
            axes.set_ylabel("questions")

        lines += ["", _plot("rag_latency", draw)]
    return lines


def _connector(figures: dict) -> list[str]:
    lines = [
        "## Messenger connector (`bench/connector_bench.py`)",
        "",
        "| receiver event | messages queued | p50 | p95 |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['event']} | {r['enqueued_per_delivery']} | {r['p50_us']} µs | {r['p95_us']} µs |"
        for r in figures["receiver"]
    ]
    lines += ["", "| handler module | cold import |", "| --- | --- |"]
    lines += [f"| `{module}` | {ms} ms |" for module, ms in figures["cold_import_ms"].items()]
    return lines


def _dashboard(figures: dict) -> list[str]:
    runs = figures["api_stats_ms"]["runs"]

    def draw(axes):
        axes.bar(range(1, len(runs) + 1), runs, color="#8f6b86")
        axes.set_xlabel("run")
        axes.set_ylabel("GET /api/stats (ms)")

    return [
        "## Dashboard (`bench/dashboard_stats.py`)",
        "",
        f"{figures['events']:,} tracker events in {figures['conversations']:,} conversations over "
        f"{figures['days']} days, written through Rasa's SQL tracker store.",
        "",
        "| figure | median |",
        "| --- | --- |",
        f"| `GET /api/stats?days={figures['days']}` over HTTP | {figures['api_stats_ms']['median']} ms |",
        f"| the stats function alone | {figures['stats_ms']['median']} ms |",
        f"| conversation list, first page | {figures['conversations_page_ms']} ms |",
        f"| conversation search | {figures['conversations_search_ms']} ms |",
        "",
        _plot("dashboard_stats", draw),
    ]


def _archive(figures: dict) -> list[str]:
    lines = [
        "## Nightly archive (`bench/archive_bench.py`)",
        "",
        f"{figures['what']}.",
        "",
        "| events | seconds | events/s | gzip | memory before -> peak |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['events']:,} | {r['seconds']} | {r['events_per_second']:,} | {r['gzip_mib']} MiB | "
        f"{r['rss_before_mib']} -> {r['rss_peak_mib']} MiB |"
        for r in figures["runs"]
    ]
    return lines


def _load(figures: dict) -> list[str]:
    """Our stack and a bare `rasa init` assistant under the same load, and their ratios."""
    bare = {row["customers"]: row for row in figures.get("bare", [])}
    lines = [
        "## Many customers at once (`bench/load_bench.py`)",
        "",
        f"`{figures['command']}`: simulated customers, each running full conversations through the REST "
        "channel (greet, book, name, phone, confirm, hours, knowledge question, goodbye) against our stack, "
        "then the same number of turns against a bare `rasa init` assistant started in the same run.",
        "",
        "| customers | ours msg/s | bare msg/s | ours p50 / p95 / p99 | bare p50 / p95 / p99 | errors |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in figures["ours"]:
        other = bare.get(row["customers"], {})
        lines.append(
            f"| {row['customers']} | {row['messages_per_s']} | {other.get('messages_per_s', '-')} | "
            f"{row['p50_ms']} / {row['p95_ms']} / {row['p99_ms']} ms | "
            f"{other.get('p50_ms', '-')} / {other.get('p95_ms', '-')} / {other.get('p99_ms', '-')} ms | "
            f"{row['errors']} / {other.get('errors', '-')} |"
        )
    kinds = sorted({kind for row in figures["ours"] for kind in row["by_kind"]})
    lines += ["", "Per kind of turn, p50 / p95 (ours):", "", "| customers | " + " | ".join(kinds) + " |"]
    lines.append("| --- |" + " --- |" * len(kinds))
    for row in figures["ours"]:
        cells = [
            f"{row['by_kind'][k]['p50_ms']} / {row['by_kind'][k]['p95_ms']} ms" if k in row["by_kind"] else "-"
            for k in kinds
        ]
        lines.append(f"| {row['customers']} | " + " | ".join(cells) + " |")
    rest, loaded = figures.get("ours_rss_rest_mib", {}), figures.get("ours_rss_loaded_mib", {})
    lines += [
        "",
        f"Bookings written: {figures.get('bookings_confirmed')}; double bookings: {figures.get('double_bookings')}. "
        f"Memory at rest -> after the load: Rasa {rest.get('rasa')} -> {loaded.get('rasa')} MiB, action server "
        f"{rest.get('actions')} -> {loaded.get('actions')} MiB; bare Rasa {figures.get('bare_rss_loaded_mib', '-')} MiB. "
        f"Start-up to ready: {figures.get('ours_start_s')} s.",
    ]

    def draw(axes):
        for name, rows in (("ours", figures["ours"]), ("bare rasa init", figures.get("bare", []))):
            if rows:
                axes.plot([r["customers"] for r in rows], [r["p95_ms"] for r in rows], marker="o", label=f"{name} p95")
        axes.set_xscale("log", base=2)
        axes.set_xlabel("customers at once")
        axes.set_ylabel("per-turn p95 (ms)")
        axes.legend()

    return [*lines, "", _plot("load", draw)]


def _fuzz(figures: dict) -> list[str]:
    lines = [
        "## Generated customers (`bench/fuzz_bench.py`)",
        "",
        f"`{figures['command']}`: {figures['conversations']} conversations through the REST channel, "
        f"{figures['seconds_per_conversation']} s each; clock pinned at {figures['now']}. "
        f"Failing transcripts: `bench/results/fuzz.json` (`failures`).",
        "",
        "| language | class | passed | rate |",
        "| --- | --- | --- | --- |",
    ]
    for lang, figs in figures["summary"].items():
        lines.append(f"| **{lang}** | **all** | **{figs['ok']}/{figs['n']}** | **{figs['rate']:.1%}** |")
        lines += [
            f"| {lang} | {klass} | {f['ok']}/{f['n']} | {f['rate']:.0%} |" for klass, f in figs["classes"].items()
        ]
    for lang, figs in figures["summary"].items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in figs.get("failure_kinds", {}).items()) or "none"
        lines.append(f"\nFailures ({lang}) by kind: {kinds}.")
    return lines


def _generic(name: str, figures: dict) -> list[str]:
    lines = [f"## {name}", "", "| figure | value |", "| --- | --- |"]
    for key, value in figures.items():
        if not isinstance(value, list | dict):
            lines.append(f"| {key} | {value} |")
    return lines


def write() -> Path:
    sections = {
        "rag": _rag,
        "connector": _connector,
        "dashboard_stats": _dashboard,
        "archive": _archive,
        "fuzz": _fuzz,
        "load": _load,
    }
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Figures come from bench/results/*.json.",
    ]
    for path in sorted(RESULTS.glob("*.json")):
        figures = json.loads(path.read_text())
        lines += ["", *sections.get(path.stem, lambda f, n=path.stem: _generic(n, f))(figures)]
    REPORT.write_text("\n".join(lines) + "\n")
    return REPORT


if __name__ == "__main__":
    print(write())
