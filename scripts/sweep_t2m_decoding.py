"""Val t2m R@3 of one checkpoint under several decoding settings (issue 14 diagnostic).

The training learning curve's measurement (`learning_curve.val_point`: the
first N val motions, first caption each, ground-truth lengths, R@3 over batches of 32
with the dataset's evaluator), repeated for each (top-k, guidance scale) and each seed
of the generation: with 64-96 motions one generation set moves R@3 by +-0.05, so read
a setting against its own seed spread.

    python scripts/sweep_t2m_decoding.py CHECKPOINT_DIR [--items 96] [--top-k 20] [--cfg 1,3] [--seeds 0,1]
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--items", type=int, default=96)
    ap.add_argument("--top-k", default="20", help="comma list; 0 = greedy")
    ap.add_argument("--cfg", default="1,3", help="comma list of guidance scales (1 = none)")
    ap.add_argument("--seeds", default="0,1")
    args = ap.parse_args()

    import numpy as np

    from reference_model.hmvlm.learning_curve import R_BATCH, val_point
    from reference_model.hmvlm.network import load_network
    from reference_model.hmvlm.training import learning_curve_set, make_store, resolve_data

    net = load_network(Path(args.checkpoint)).eval()
    store = make_store()
    root, _, _ = resolve_data(net.cfg.preset, None, store)
    found = learning_curve_set(net.cfg.replace(val_items=args.items), root, store, False)
    if found is None:
        raise SystemExit("no evaluator for this checkpoint's data")
    val, ev = found
    n = (len(val.captions) // R_BATCH) * R_BATCH
    print(f"{args.checkpoint}: {len(val.captions)} val motions (R@3 over {n // R_BATCH} batches of {R_BATCH})")
    for k in (int(x) for x in args.top_k.split(",")):
        for scale in (float(x) for x in args.cfg.split(",")):
            r3 = []
            for seed in (int(x) for x in args.seeds.split(",")):
                r = val_point(net, val, ev, seed=seed, top_k=k, cfg_scale=scale)
                r3.append(r["val_r3"])
                print(f"  top_k={k:<3d} cfg={scale:<4g} seed={seed}: R@3 {r['val_r3']:.3f}  R@1 {r['val_r1']:.3f}  "
                      f"MM-Dist {r['val_mm_dist']:.3f}  ({r['gen_seconds']:.0f} s)", flush=True)
            print(f"  top_k={k:<3d} cfg={scale:<4g} mean R@3 over {len(r3)} seeds: {np.mean(r3):.3f}", flush=True)

if __name__ == "__main__":
    main()
