"""Results table: plain text for the terminal, markdown for the README, JSON for everything."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def _value(r: dict) -> str:
    v = r["value"]
    if v is None:
        return "—"
    if isinstance(v, float):
        a = abs(v)
        v = f"{v:.3f}" if a < 1 else f"{v:.2f}" if a < 10 else f"{v:.1f}" if a < 1000 else f"{v:,.0f}"
    return f"{v} {r['unit']}".strip()


def _ok(r: dict) -> str:
    return {True: "ok", False: "MISS", None: ""}[r["ok"]]


def rows_of(results: dict) -> list[dict]:
    return [r for name in results["order"] if name in results["sections"] for r in results["sections"][name]["rows"]]


def text_table(results: dict) -> str:
    rows = rows_of(results)
    head = ("section", "metric", "value", "target", "", "note")
    cells = [(r["section"], r["metric"], _value(r), r["target"], _ok(r), r["note"]) for r in rows]
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(5)]
    lines = []
    for c in [head, *cells]:
        lines.append("  ".join(c[i].ljust(widths[i]) for i in range(5)) + ("  " + c[5] if c[5] else ""))
    lines.insert(1, "-" * min(160, sum(widths) + 10))
    return "\n".join(lines)


def markdown(results: dict) -> str:
    m = results["machine"]
    out = [f"Measured {results['finished']} on {m['cores']} cores ({m['machine']}), torch {m['torch']} "
           f"(serving: 1 torch thread, as the app), Python {m['python']}; checkpoint `{results['checkpoint']}` "
           f"(step {results.get('step')}){' — quick run' if results['quick'] else ''}"
           f"{'; served corpus limited to ' + str(results['corpus_limit']) + ' tunes' if results.get('corpus_limit') else ''}.",
           "Times are medians (p50) and 95th percentiles after warm-up; ratios are measured in the same run.",
           *_merged_note(results), "",
           "| section | metric | value | target | |", "|---|---|---|---|---|"]
    for r in rows_of(results):
        metric = r["metric"].strip() if not r["metric"].startswith("  ") else "↳ " + r["metric"].strip()
        note = f" <small>({r['note']})</small>" if r["note"] else ""
        out.append(f"| {r['section']} | {metric}{note} | {_value(r)} | {r['target']} | {_ok(r)} |")
    return "\n".join(out) + "\n"


def _merged_note(results: dict) -> list[str]:
    """With --only, other sections come from earlier runs: say when each was measured."""
    when = {n: results["sections"][n].get("measured_at") for n in results["order"] if n in results["sections"]}
    when = {n: w for n, w in when.items() if w}
    if len(set(when.values())) <= 1:
        return []
    return ["Sections measured at: " + ", ".join(f"{n} {w}" for n, w in when.items()) + "."]


def write(results: dict, json_path: Path) -> tuple[Path, Path]:
    json_path = Path(json_path)
    json_path.write_text(json.dumps(results, indent=2, default=str))
    md = json_path.with_suffix(".md")
    md.write_text(markdown(results))
    return json_path, md


def md_table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    """A markdown table's lines: the header, its rule, then one line per row of (already formatted) cells."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def publish(md: str, res: dict, folder: Path, name: str) -> None:
    """Print a bench's markdown report and write it as folder/name.md, its results as folder/name.json."""
    print(md)
    (Path(folder) / f"{name}.md").write_text(md)
    (Path(folder) / f"{name}.json").write_text(json.dumps(res, indent=1))
