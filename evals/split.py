"""Splits the raw question sets into a dev half (tuned on) and a frozen test half (only
scored): within each writer's file, odd-numbered ids go to dev, even-numbered to test.
Run once, when the sets were written; rerunning gives the same files."""
import json, pathlib, sys

root = pathlib.Path(__file__).parent
for kb in ["abcd", "baton-docs"]:
    rows = []
    for f in sorted((root / kb / "raw").glob("*.jsonl")):
        rows += [json.loads(l) for l in f.read_text().splitlines() if l.strip()]
    halves = {"dev": [], "test": []}
    for r in rows:
        n = int(r["id"].rsplit("-", 1)[1])
        halves["dev" if n % 2 else "test"].append(r)
    for name, items in halves.items():
        with open(root / kb / f"{name}.jsonl", "w") as out:
            for r in items:
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
        a = sum(1 for r in items if r.get("answerable", True))
        print(f"{kb}/{name}: {a} answerable, {len(items) - a} not answerable", file=sys.stderr)
