"""Launcher for the Melody Explorer: parse flags, build the services, build the UI, launch."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from vae.paths import SHIPPED


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Melody Explorer: explore the latent space of melodies in the browser.")
    p.add_argument("--checkpoint", type=Path, default=Path(os.environ.get("MELODY_CHECKPOINT", SHIPPED)),
                   help="model checkpoint folder (default: the shipped model)")
    p.add_argument("--corpus", type=Path, help="a built corpus folder (default: the bundled music21 corpus)")
    p.add_argument("--midi", type=Path, help="explore your own MIDI folder (as trained with `python -m vae train --midi`)")
    p.add_argument("--collection", action="append", default=[], metavar="NAME",
                   help="also load a saved collection of your own beside the corpus (repeatable; make one on the page or "
                        "with `python -m explorer collection add NAME FOLDER`)")
    p.add_argument("--learned", action="store_true",
                   help="start with the model that learned the style of the last --collection that has one (the "
                        "page's Learn my style saves it in the collection's folder: model/last)")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument("--share", action="store_true", help="also make a public gradio.live link (where allowed)")
    p.add_argument("--soundfont", type=Path, help="a .sf2 file (default: soundfonts/, FluidR3, TimGM6mb)")
    p.add_argument("--auth", default=os.environ.get("MELODY_AUTH"),
                   help="USER:PASSWORD to require a login for the page and the API (env MELODY_AUTH)")
    p.add_argument("--concurrency", type=int, default=int(os.environ.get("MELODY_CONCURRENCY", 4)),
                   help="events of one kind running at once (env MELODY_CONCURRENCY)")
    p.add_argument("--queue-size", type=int, default=int(os.environ.get("MELODY_QUEUE_SIZE", 64)),
                   help="requests waiting before new ones are refused (env MELODY_QUEUE_SIZE)")
    p.add_argument("--disk-cap-mb", type=float, default=float(os.environ.get("MELODY_DISK_CAP_MB", 512)),
                   help="most disk the rendered files may take, oldest removed first (env MELODY_DISK_CAP_MB)")
    a = p.parse_args(argv)
    if a.learned and not a.collection:
        p.error("--learned needs --collection NAME (the collection whose learned model to start with)")
    if a.auth is not None and (":" not in a.auth or not a.auth.split(":", 1)[0] or not a.auth.split(":", 1)[1]):
        p.error("--auth must be USER:PASSWORD")
    for name in ("concurrency", "queue_size", "disk_cap_mb"):
        if getattr(a, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    return a


def local_only(args: argparse.Namespace) -> bool:
    """Whether the page may add collections to the app's corpus: only an app on your own computer (loopback, no
    login, not a Hugging Face Space), where the one corpus every visitor sees is yours."""
    return args.host in ("127.0.0.1", "localhost", "::1") and not args.auth and not args.share \
        and not os.environ.get("SPACE_ID")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's BLAS threads fight torch's on 2 cores
    from explorer.serve.process import limit_malloc_arenas

    limit_malloc_arenas()  # before torch's and the server's threads: memory stays level under load
    t0 = time.time()
    from explorer.media.audio import AudioUnavailableError, check_audio

    try:
        check_audio(args.soundfont)
    except AudioUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from explorer.latent.space import LatentSpace

    corpus = None
    if args.corpus:
        from vae.corpus import Corpus

        corpus = Corpus.load(args.corpus)
    elif args.midi:
        from vae.checkpoint import data_config, read_meta
        from vae.corpus import load_or_build

        corpus = load_or_build(data_config(read_meta(args.checkpoint)), midi_dir=args.midi)
    print("loading the model, corpus and latent-space indexes (the first run builds caches: about a minute)")
    from explorer.errors import UserError
    from explorer.latent.collections import join, load_collection

    try:  # your own collections, beside the corpus (read before the minute of building, so a typo fails at once)
        mine = [load_collection(name) for name in args.collection]
    except (FileNotFoundError, UserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.learned:  # the fine-tuned decoder of the last collection that has one (explorer.session.learn)
        from explorer.session.learn import learned_checkpoint

        learned = [ck for ck in map(learned_checkpoint, mine) if ck is not None]
        if not learned:
            print(f"error: no collection of {', '.join(args.collection)} has learned a model yet: use Learn my style "
                  "on the page (Your collection tab)", file=sys.stderr)
            return 2
        args.checkpoint = learned[-1]
        print(f"the model that learned your style: {args.checkpoint}")
    services = join(LatentSpace.build(args.checkpoint, corpus=corpus, progress=True), mine)
    from explorer.media.storage import cleanup_on_sigterm
    from explorer.ui import build_ui, launch

    cleanup_on_sigterm()  # a stopped container leaves no rendered files behind
    demo = build_ui(services, soundfont=args.soundfont, concurrency=args.concurrency, queue_size=args.queue_size,
                    disk_cap_mb=args.disk_cap_mb, add_collections=local_only(args))
    print(f"ready in {time.time() - t0:.1f} s: http://{args.host}:{args.port}")
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    launch(demo, host=args.host, port=args.port, share=args.share, auth=auth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
