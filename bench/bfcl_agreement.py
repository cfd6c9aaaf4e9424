"""Agreement of the lab's scorer with BFCL's checker on every imported BFCL case.

For each category (``lab.bfcl.importer.SINGLE_TURN`` and ``lab.bfcl.multi_turn.MULTI_TURN``), every
importable case gets ``scripted/oracle``, ``scripted/chaos-0..2`` and hypothesis perturbations of its
gold answer (``lab.bfcl.perturb``, ``lab.bfcl.multi_perturb``); both verdicts are compared
(``lab.bfcl.measure``; multi-turn against BFCL's ``multi_turn_checker``). Merges into
``bench/results.json``: ``bfcl_agreement`` ({category: agreement with BFCL's issue #1362 cases
set aside}), ``bfcl_agreement_raw`` ({category: agreement over every output}) and
``bfcl_agreement_detail`` (counts, disagreement kinds, examples, entries set aside on import).
Categories not measured in this run keep their earlier entries. A script, not a test:
``python bench/bfcl_agreement.py [--perturbations 8 --limit N --seed 0 --categories C1,C2]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.bfcl.importer import SINGLE_TURN  # noqa: E402
from lab.bfcl.measure import measure  # noqa: E402
from lab.bfcl.multi_turn import MULTI_TURN  # noqa: E402
from lab.io import merge_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perturbations", type=int, default=8, help="hypothesis draws per case")
    parser.add_argument("--limit", type=int, default=None, help="only the first N entries per category")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--categories", default=",".join([*SINGLE_TURN, *MULTI_TURN]))
    args = parser.parse_args()
    agreement, raw, detail = {}, {}, {}
    for category in args.categories.split(","):
        started = time.perf_counter()
        counted = measure(category, args.limit, perturbations=args.perturbations, seed=args.seed)
        agreement[category], raw[category] = counted.set_aside, counted.raw
        detail[category] = {**counted.model_dump(), "seconds": round(time.perf_counter() - started, 1)}
        print(
            f"{category}: {counted.cases} cases, {counted.outputs} outputs, agreement {counted.raw:.4f} raw,"
            f" {counted.set_aside:.4f} with #1362 set aside; {counted.disagreements}",
            flush=True,
        )
    path = ROOT / "bench" / "results.json"
    earlier = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    sections = {"bfcl_agreement": agreement, "bfcl_agreement_raw": raw, "bfcl_agreement_detail": detail}
    merge_json(path, {key: {**earlier.get(key, {}), **value} for key, value in sections.items()})


if __name__ == "__main__":
    main()
