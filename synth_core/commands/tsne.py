"""``tsne``: a map of real (and generated) rows written as HTML, JSON or PNG.

    python -m synth_core tsne --data builtin:digits --synthetic G.h5 --out map.html
    python -m synth_core tsne --data F.h5 --out map.png --method pca
    python -m synth_core tsne --data F.h5 --synthetic G.h5 --run runs/vae-... --out latent.html

``tsne`` fits the real map once (cached in the workspace) and places the
generated rows on it; ``joint-tsne`` is the thesis's scikit-learn t-SNE of both
together; ``pca`` is fast and linear. ``--run`` maps the model's latent space.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "map real and generated rows with t-SNE or PCA (HTML, JSON or PNG)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True,
                        help="real data: a feature file, workspace dataset or builtin:NAME")
    parser.add_argument("--synthetic", action="append", default=[], metavar="G.h5",
                        help="generated feature file(s) to show as stars (repeat for several)")
    parser.add_argument("--out", required=True, help="output file: MAP.html, MAP.json or MAP.png")
    parser.add_argument("--method", choices=("tsne", "joint-tsne", "pca"), default="tsne",
                        help="tsne: fixed real map, generated rows placed (default); joint-tsne: "
                             "scikit-learn t-SNE of both together (the thesis); pca: fast")
    parser.add_argument("--run", help="a trained run folder (path, or name under runs/): map its latent "
                        "space instead")
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (30)")
    parser.add_argument("--iterations", type=int, default=500,
                        help="t-SNE iterations after the 250 early-exaggeration ones (500)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--title", help="figure title (default: method and row counts)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.errors import InputError, StorageError
    from synth_core.generation.figures import EXPORT_FORMATS, export_figure, map_figure
    from synth_core.generation.map_jobs import compute_map
    from synth_core.generation.maps import MapConfig

    out = Path(args.out)
    if out.suffix.lower() not in EXPORT_FORMATS:
        raise InputError(f"--out {args.out}: unknown format {out.suffix or '(none)'}; end the "
                         f"name in {', '.join(EXPORT_FORMATS)}")
    if out.exists() and not args.overwrite:
        raise StorageError(f"--out {args.out} already exists; choose another name or pass "
                           "--overwrite")
    params = {"dataset": args.data, "synthetic": args.synthetic, "method": args.method,
              "random_state": args.seed, "run": str(workspace.run_path(args.run)) if args.run else "",
              "config": {k: v for k, v in (("perplexity", args.perplexity),
                                           ("n_iter", args.iterations))
                         if v != getattr(MapConfig, k)}}
    data, cached = compute_map(params, workspace, callback=callback)
    export_figure(map_figure(data, title=args.title), out, overwrite=args.overwrite)
    return {"out": str(out), "method": data.method, "n_real": data.n_real,
            "n_generated": data.n_generated, "map_data": str(cached),
            "seconds": data.meta.get("seconds")}
