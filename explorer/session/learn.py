"""Learn my style: the model fine-tuned on a saved collection for a few minutes, then served by the explorer.

Only the decoder learns, with the folk corpus mixed into every batch (vae.finetune, `adapt="decoder"`,
`mix=0.5`): bench/finetune.md measured it gaining nearly as much on held-out songs of a collection as adapting
every weight while forgetting less of the folk corpus, and the encoder stays as it was, so every encoding (the
corpus, the collections, every session's z, the map) stays valid and the switch reuses them
(explorer.latent.swap). The run trains in a thread of its own, so the page stays responsive: any page can
follow it (`LearnRun`), Stop ends it between two steps, and what it leaves is a checkpoint in the collection's
folder (`<collection>/model/last`), written at every validation, so a run stopped or killed midway leaves
the last good one. A second run continues it (resume). Like adding, it is for an app on your own computer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from explorer.errors import UserError
from explorer.latent.collections import Collection, load_collection
from explorer.latent.directions import Sliders
from explorer.latent.swap import keep_sliders, resweep, with_model
from explorer.media.curve import learning_curve
from vae.checkpoint import read_meta
from vae.corpus import VALID
from vae.finetune import CURVE_FILE, FinetuneConfig, FinetuneState, collection_pools, finetune

LOG = logging.getLogger("melody_explorer")
LEARN = FinetuneConfig(minutes=5.0, mix=0.5, adapt="decoder")  # bench/finetune.md: decoder only, corpus mixed in
MINUTES = (1, 15)  # what the page offers
HOSTED_LEARN = ("Learning your style works on your own computer: run `make run` there (or `python -m vae finetune "
                "--midi FOLDER`); this shared demo keeps one model for every visitor.")
RECORD = "learn.json"  # beside the checkpoint: the accuracies before the first run, and every run's outcome


def model_folder(coll: Collection | Path) -> Path:
    """The folder a collection's fine-tunes write (its checkpoint is `model/last`)."""
    return Path(getattr(coll, "folder", coll)) / "model"


def learned_checkpoint(coll: Collection | Path) -> Path | None:
    """The collection's fine-tuned checkpoint, None when it has none yet."""
    last = model_folder(coll) / "last"
    return last if (last / "checkpoint.json").exists() else None


def start_command(name: str) -> str:
    """How to start the app with a collection and its learned model next time."""
    return f'python app.py --collection "{name}" --learned'


@dataclass
class LearnRun:
    """One fine-tune running in a thread: what it has done so far (any page may read it), Stop, and its end."""

    name: str  # the collection
    minutes: float  # this run's budget (training minutes, validation not counted)
    stop_asked: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    phase: str = "starting"  # what it is doing now, in words
    step: int = 0  # steps of this run
    offset: float = 0.0  # minutes trained by earlier runs (this one continues them)
    trained: float = 0.0  # minutes of this run trained
    points: list = field(default_factory=list)  # the curve so far: {"minutes", "collection", "base"}, all runs
    held_out: bool = True  # whether the collection's curve is on songs held out from training
    result: dict | None = None  # when it ended well: see LearnActions._run
    error: str = ""  # when it ended with an error: a sentence
    thread: threading.Thread | None = None

    def stop(self) -> None:
        """Ask the run to end after the step it is on (it then validates, saves and switches as at the end)."""
        self.stop_asked.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (True), or `timeout` seconds have passed (False)."""
        return self.done.wait(timeout)

    @property
    def running(self) -> bool:
        return not self.done.is_set()


def _points(folder: Path, before: dict | None) -> list[dict]:
    """The curve of every run in `folder` (vae.finetune's CSV), after the before-training point at minute 0."""
    out = [{"minutes": 0.0, "collection": before.get("collection"), "base": before.get("base")}] if before else []
    path = folder / CURVE_FILE
    if path.exists():
        import csv

        with path.open() as f:
            for row in csv.DictReader(f):
                base = float(row["base_event_accuracy"]) if row.get("base_event_accuracy") else float("nan")
                out.append({"minutes": float(row["minutes"]), "collection": float(row["collection_event_accuracy"]),
                            "base": None if np.isnan(base) else base})
    return out


def before_scores(model, coll: Collection, base_corpus, cfg: FinetuneConfig) -> dict:
    """The served model's greedy note-event accuracy on the windows the fine-tune validates on (the same
    seeded picks as vae.finetune): {"collection", "base", "held_out"}."""
    from vae.scores import reconstruction_scores

    names = tuple(model.meta.get("train", {}).get("attr_names", ()))
    _, c_valid, held_out = collection_pools(coll.corpus, names)
    pick = np.random.default_rng(cfg.seed)
    c_valid = c_valid[pick.permutation(len(c_valid))[: cfg.valid_windows]]
    b_valid = base_corpus.subset(VALID)
    b_valid = b_valid[pick.permutation(len(b_valid))[: cfg.valid_windows]]
    out = {"collection": reconstruction_scores(model.model, c_valid)["greedy_event_accuracy"], "held_out": held_out}
    if len(b_valid):
        out["base"] = reconstruction_scores(model.model, b_valid)["greedy_event_accuracy"]
    return out


class LearnActions:
    """Fine-tuning the served model on one of the composer's saved collections, and serving the result."""

    learning: LearnRun | None = None  # the run of this process (one at a time), None before the first
    learn_config: FinetuneConfig = LEARN  # what a run does but for its minutes (tests: a few steps)

    def start_learning(self, name: str, minutes: float = LEARN.minutes, config: FinetuneConfig | None = None,
                       resweep_n: int = 0) -> LearnRun:
        """Start (or, when one is running for this collection, follow) a fine-tune of the served model on the
        saved collection `name` for `minutes` of training, in a thread; returns the run at once. With `resweep_n`,
        the sliders' names are measured again on the new model with that many melodies (minutes); else they
        are kept. `config` (default `learn_config`) sets everything but the minutes. UserError when learning is off
        here, the name is unknown, the minutes are out of range or another collection is being learned."""
        if not self.add_collections:
            raise UserError(HOSTED_LEARN)
        run = self.learning
        if run is not None and run.running:
            if run.name == name:
                return run
            raise UserError(f"The model is learning {run.name!r} now; stop it first (or wait until it ends).")
        if not name:
            raise UserError("Choose a saved collection to learn first (add one above).")
        try:
            coll = load_collection(name, self.collections_root)
        except FileNotFoundError:
            raise UserError(f"There is no saved collection {name!r}; add it above first.") from None
        if not MINUTES[0] <= float(minutes) <= MINUTES[1]:
            raise UserError(f"Learn for {MINUTES[0]} to {MINUTES[1]} minutes (got {minutes:g}).")
        if self.s.checkpoint is None:
            raise UserError("This model was not loaded from a checkpoint folder, so it cannot be fine-tuned here.")
        config = config or self.learn_config
        run = LearnRun(coll.name, float(minutes))
        run.thread = threading.Thread(target=self._run, args=(run, coll, replace(config, minutes=float(minutes)),
                                                              resweep_n), name=f"learn-{coll.name}", daemon=True)
        self.learning = run
        run.thread.start()
        return run

    def stop_learning(self) -> LearnRun | None:
        """Ask the running fine-tune to end after its current step; returns it (None when none is running)."""
        run = self.learning
        if run is None or not run.running:
            return None
        run.stop()
        return run

    def _run(self, run: LearnRun, coll: Collection, cfg: FinetuneConfig, resweep_n: int) -> None:
        try:
            run.result = self._learn(run, coll, cfg, resweep_n)
        except UserError as exc:
            run.error = str(exc)
        except ValueError as exc:  # vae.finetune's own refusals (a collection without melody windows)
            run.error = f"It could not learn this collection: {exc}."
        except Exception as exc:  # a bug: logged as one
            LOG.exception("learning %r failed", run.name)
            run.error = f"The fine-tune failed ({type(exc).__name__}); the last good checkpoint is kept."
        finally:
            run.phase = "ended"
            run.done.set()

    def _learn(self, run: LearnRun, coll: Collection, cfg: FinetuneConfig, resweep_n: int) -> dict:
        """The run itself: accuracy before (first run only), fine-tune, sliders, switch. Returns {"checkpoint",
        "minutes", "steps", "stopped", "before", "after", "held_out", "resumed", "sliders", "seconds"}."""
        folder = model_folder(coll)
        folder.mkdir(parents=True, exist_ok=True)
        record_path = folder / RECORD
        record = json.loads(record_path.read_text()) if record_path.exists() else {"runs": []}
        last = learned_checkpoint(coll)
        base_corpus = self.s.base.corpus
        if "before" not in record or last is None:
            run.phase = "measuring the model before it learns"
            record = {"runs": [], "before": before_scores(self.s.model, coll, base_corpus, cfg)}
            record_path.write_text(json.dumps(record, indent=1))
            last = None
        before = record["before"]
        run.held_out = bool(before.get("held_out", True))
        done = read_meta(last).get("extra", {}).get("finetune", {}) if last else {}
        prev_minutes, prev_steps = float(done.get("seconds", 0.0)) / 60, int(done.get("steps", 0))
        # vae.finetune's budget and step limit count from the first run: this run adds its own to them
        cfg = replace(cfg, minutes=prev_minutes + cfg.minutes,
                      max_steps=None if cfg.max_steps is None else prev_steps + cfg.max_steps)
        run.points, run.offset = _points(folder, before), prev_minutes
        run.phase = "learning"

        def progress(s: FinetuneState) -> None:
            run.step, run.trained = s.step - prev_steps, max(0.0, s.minutes - prev_minutes)
            run.points = _points(folder, before)

        t0 = time.perf_counter()
        scores = finetune(self.s.checkpoint, coll.corpus, base_corpus, folder, cfg, resume=last is not None,
                          progress=progress, should_stop=run.stop_asked.is_set)
        train_s = time.perf_counter() - t0
        last = folder / "last"
        run.step, run.trained = int(scores["steps"]) - prev_steps, float(scores["minutes"]) - prev_minutes
        run.points = _points(folder, before)
        from vae.inference import TrainedModel

        t1 = time.perf_counter()
        model = TrainedModel.load(last)
        if resweep_n:
            run.phase = f"measuring the sliders' names on the new model ({resweep_n} melodies)"
            sliders = resweep(model, self.s, resweep_n, checkpoint=last)
        else:
            sliders = keep_sliders(self.s.sliders, last)
        sweep_s = time.perf_counter() - t1
        run.phase = "switching the explorer to the new model"
        t2 = time.perf_counter()
        with self._adding:  # an add in the meantime joined the space this switch starts from
            space = with_model(self.s, last, model, sliders, threads=1)
            self.use_space(space)
        swap_s = time.perf_counter() - t2
        after = {"collection": scores["collection_event_accuracy"], "base": scores.get("base_event_accuracy")}
        result = {"checkpoint": str(last), "minutes": run.trained, "steps": run.step, "stopped": bool(scores["stopped"]),
                  "before": before, "after": after, "held_out": run.held_out, "resumed": prev_steps > 0,
                  "total_minutes": float(scores["minutes"]), "reused_encodings": bool(space.reused_encodings),
                  "sliders": _sliders_summary(sliders, resweep_n),
                  "seconds": {"train": train_s, "sliders": sweep_s, "switch": swap_s}}
        record["runs"].append({k: v for k, v in result.items() if k not in ("before", "checkpoint")})
        record_path.write_text(json.dumps(record, indent=1))
        return result

    def learn_status(self, run: LearnRun | None = None) -> str:
        """Where the run stands (or how it ended), in words (markdown)."""
        run = run or self.learning
        if run is None:
            return ("" if self.add_collections else HOSTED_LEARN)
        if run.error:
            return f"**{run.name}**: {run.error}"
        if run.result is None:
            stopping = " Stopping after this step…" if run.stop_asked.is_set() else ""
            return (f"**Learning {run.name}**: {run.trained:.1f} of {run.minutes:g} minutes, {run.step} steps "
                    f"({run.phase}).{stopping}")
        return finished_text(run.name, run.result)

    def learn_figure(self, run: LearnRun | None = None) -> dict | None:
        """The run's learning curve (explorer.media.curve), None before any run."""
        run = run or self.learning
        if run is None:
            return None
        return learning_curve(run.points, run.offset + run.minutes if run.running else None, run.held_out)


def _sliders_summary(sliders: Sliders, resweep_n: int) -> dict:
    return {"named": sum(bool(r["name"]) for r in sliders.sweep), "count": len(sliders.sweep),
            "remeasured": bool(resweep_n), "melodies": resweep_n}


def _pct(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def finished_text(name: str, r: dict) -> str:
    """What an ended run did and how to use its model, in words (markdown)."""
    how = "stopped" if r["stopped"] else "finished"
    mine = "held-out songs of your collection" if r["held_out"] else "your collection's songs (too few to hold any out)"
    total = f" ({r['total_minutes']:.1f} minutes over every run)" if r["resumed"] else ""
    sl = r["sliders"]
    sliders = (f"The sliders' names were measured again on the new model ({sl['melodies']} melodies): "
               f"{sl['named']} of {sl['count']} are named." if sl["remeasured"] else
               "The sliders keep their directions and the names measured on the model it started from "
               "(not measured again).")
    kept = ("every melody, the map and the sliders stay where they were: only the decoder learned" if
            r["reused_encodings"] else "its encoder differs, so the corpus was encoded again")
    return (f"**{name}**: {how} after {r['minutes']:.1f} minutes and {r['steps']} steps{total}. Note events "
            f"decoded right from z on {mine}: {_pct(r['before']['collection'])} → {_pct(r['after']['collection'])}; "
            f"on the folk corpus: {_pct(r['before'].get('base'))} → {_pct(r['after']['base'])}. The explorer now "
            f"plays the new model ({kept}). {sliders} Saved in `{r['checkpoint']}`; start with it next time: "
            f"`{start_command(name)}`. *Start* again continues it.")


__all__ = ["HOSTED_LEARN", "LEARN", "MINUTES", "LearnActions", "LearnRun", "before_scores", "finished_text",
           "learned_checkpoint", "model_folder", "start_command"]
