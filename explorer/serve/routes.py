"""Plain HTTP routes beside the Gradio app (same server, same FastAPI app): JSON in, JSON or a .mid file out.

For scripts that want a melody without Gradio's queue and event stream:

    curl -s -X POST http://127.0.0.1:7860/v1/decode -H 'content-type: application/json' \\
         -d '{"sliders": [1.5, 0, -1]}'                         # -> {"z", "sliders", "notes", "tokens", "midi_base64"}
    curl -s -X POST http://127.0.0.1:7860/v1/decode -d '{"melody": "<the melody code /encode returned>"}'
    curl -s -X POST http://127.0.0.1:7860/v1/decode.mid -d '{"z": [...]}' -o melody.mid
    curl -s -X POST http://127.0.0.1:7860/v1/harmonise -d '{"melody": "...", "chords": "Am F C G"}'
    curl -s -X POST http://127.0.0.1:7860/v1/regenerate -d '{"melody": "...", "keep": [1, 2], "n": 4}'

Every value is checked as the Gradio endpoints check it (explorer.serve.api / explorer.session.validate): a bad request
gets HTTP 400 with {"error": sentence}. When the app runs with a login, these routes want the same user
and password as HTTP Basic auth.

/v1/drag is the page's own: a slider drag's melodies (explorer.serve.drag), keyed by the token of a drag the page
opened through a Gradio event (which had the login), so it wants no login of its own. It answers
`drag_payload`: the piano roll's Plotly JSON and the audio (MP3 or WAV, as the page asks) in one body.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import struct
from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from explorer.errors import UserError
from explorer.media import figures
from explorer.media.files import Playback
from explorer.serve import api
from explorer.serve.drag import Drags
from explorer.session.handlers import Handlers
from vae.midi_export import write_midi_bytes

MAX_BODY = 200_000  # bytes of JSON a request may send (a 64-number latent is ~1 kB)
LOG = logging.getLogger("melody_explorer")


def decode_body(h: Handlers, body: dict) -> tuple[bytes, dict]:
    """{"melody" | "code" | "z" | "sliders" [, "base_z"], "temperature", "seed", "tempo", "program"} -> (MIDI bytes,
    melody JSON); a melody code (what /encode returns as "melody") decodes with its detail, as the page plays it
    (explorer.serve.api.parse_melody)."""
    if not isinstance(body, dict):
        raise UserError('Send a JSON object like {"melody": "..."}, {"z": [...]} or {"sliders": [...]}.')
    z, detail = api.parse_melody(h, {k: body[k] for k in ("melody", "code", "z", "sliders", "base_z") if k in body})
    temperature = api.number("temperature", body.get("temperature", 0.0))
    seed = api.number("seed", body.get("seed", 0), integer=True)
    play = Playback(tempo=api.number("tempo", body.get("tempo", 120.0)),
                    gm_program=api.number("program", body.get("program", 0), integer=True))
    tokens = h.s.decode(z, temperature, seed, detail)
    notes = h.s.notes(tokens)
    midi = write_midi_bytes(notes, tempo=play.tempo, program=play.program)
    return midi, api.melody_json(h, z, tokens, detail)


def drag_payload(figure_json: str, sound: bytes) -> bytes:
    """One body for a drag preview: the figure's length (4 bytes, big-endian), the figure's JSON, the audio."""
    fig = figure_json.encode()
    return struct.pack(">I", len(fig)) + fig + sound


def split_drag_payload(body: bytes) -> tuple[dict, bytes]:
    """drag_payload's parts back: (figure, audio bytes)."""
    (n,) = struct.unpack(">I", body[:4])
    return json.loads(body[4:4 + n]), body[4 + n:]


def _check_auth(header: str | None, auth: tuple[str, str] | None) -> bool:
    if auth is None:
        return True
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user, auth[0]) & hmac.compare_digest(password, auth[1])


class Slots:
    """A route's own concurrency limit: `running` requests work at once, up to `waiting` more wait for a turn,
    and any beyond are refused with HTTP 429 at once (so a flood of plain requests cannot starve the page's
    Gradio events of the CPU)."""

    def __init__(self, running: int, waiting: int):
        self.running, self.waiting = running, waiting
        self._sem: asyncio.Semaphore | None = None  # made in the server's event loop, on first use
        self._queued = 0

    @contextlib.asynccontextmanager
    async def limit(self):
        """Yields None once a slot is held, or the 429 response to return when the wait list is full."""
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.running)
        if self._queued >= self.running + self.waiting:
            yield JSONResponse({"error": "The server is busy: try again in a moment."}, status_code=429,
                               headers={"Retry-After": "1"})
            return
        self._queued += 1
        try:
            async with self._sem:
                yield None
        finally:
            self._queued -= 1


DRAG_RUNNING, DRAG_WAITING = 2, 6  # drag previews at once, and waiting (a page has at most one or two in flight)
DECODE_RUNNING, DECODE_WAITING = 2, 30  # /v1/decode calls at once, and waiting
# /v1/harmonise and /v1/regenerate at once, and waiting: a fit to chords decodes ~24 candidates and a regeneration
# decodes several starts and may fit a detail per alternative, so fewer run and wait than decodes
VERB_RUNNING, VERB_WAITING = 1, 8


def error(status: int, message: str) -> JSONResponse:
    """A refusal: HTTP `status` with {"error": sentence}."""
    return JSONResponse({"error": message}, status_code=status)


def unauthorized(request: Request, auth: tuple[str, str] | None) -> Response | None:
    """None when the request may pass (no login, or HTTP Basic with the app's user and password), else the 401."""
    if _check_auth(request.headers.get("authorization"), auth):
        return None
    return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="Melody Explorer"'})


async def read_json(request: Request, example: str = '{"z": [...]}') -> object:
    """The request's JSON body, or the response that refuses it. An oversized body is refused from its
    Content-Length before any of it is read, and while streaming when the header is missing or lies."""
    too_big = error(413, f"The request body is over {MAX_BODY:,} bytes.")
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
        return too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return too_big
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        return json.loads(body or b"{}")
    except (ValueError, RecursionError):  # bad JSON or text, or an integer of over 4,300 digits
        return error(400, f"The body is not valid JSON. Send an object like {example}.")


class DecodeRoutes:
    """/v1/decode (JSON), /v1/decode.mid (a MIDI file) and /v1/health, behind the app's login."""

    def __init__(self, h: Handlers, auth: tuple[str, str] | None = None):
        self.h, self.auth = h, auth
        self.slots = Slots(DECODE_RUNNING, DECODE_WAITING)

    def run(self, body) -> tuple[bytes, dict] | JSONResponse:
        try:
            return decode_body(self.h, body)
        except UserError as exc:
            LOG.info("rejected /v1/decode: %s", str(exc)[:200])
            return error(400, str(exc))

    async def decoded(self, request: Request) -> tuple[bytes, dict] | Response:
        """The request's body decoded (MIDI bytes, melody JSON), or the response that refuses it."""
        refused = unauthorized(request, self.auth)
        if refused is not None:
            return refused
        data = await read_json(request)
        if isinstance(data, Response):
            return data
        async with self.slots.limit() as busy:
            return busy or await run_in_threadpool(self.run, data)

    async def decode_json(self, request: Request):
        out = await self.decoded(request)
        if isinstance(out, Response):
            return out
        midi, melody = out
        return JSONResponse({**melody, "midi_base64": base64.b64encode(midi).decode()})

    async def decode_mid(self, request: Request):
        out = await self.decoded(request)
        if isinstance(out, Response):
            return out
        return Response(out[0], media_type="audio/midi",
                        headers={"Content-Disposition": 'attachment; filename="melody.mid"'})

    async def health(self, request: Request):
        refused = unauthorized(request, self.auth)
        if refused is not None:
            return refused
        meta = self.h.s.model.meta
        return JSONResponse({"ok": True, "model_step": meta.get("step"), "latent_dim": self.h.s.latent_dim,
                             "sliders": [d["label"] for d in self.h.labels]})


def harmonise_body(h: Handlers, body) -> dict:
    """{"melody" | "code" | "z" | "sliders" [, "base_z"] [, "chords"]} -> explorer.serve.api.harmonise's answer."""
    if not isinstance(body, dict):
        raise UserError('Send a JSON object like {"melody": "..."} or {"melody": "...", "chords": "Am F C G"}.')
    return api.harmonise(h, {k: body[k] for k in api.MELODY_KEYS if k in body}, body.get("chords"))


def regenerate_body(h: Handlers, body) -> dict:
    """{"melody" | "code" | "z" | "sliders" [, "base_z"], "keep", "rhythm_lock", "pitch_lock", "n", "seed"} ->
    explorer.serve.api.regenerate's answer."""
    if not isinstance(body, dict):
        raise UserError('Send a JSON object like {"melody": "...", "keep": [1, 2], "n": 4}.')
    return api.regenerate(h, {k: body[k] for k in api.MELODY_KEYS if k in body}, body.get("keep"),
                          body.get("rhythm_lock", False), body.get("pitch_lock", False), body.get("n", 4),
                          body.get("seed", 0))


class VerbRoute:
    """A JSON verb behind the app's login, with its own concurrency limit: the body -> fn(h, body)'s JSON, or 400
    with the sentence of a UserError."""

    def __init__(self, h: Handlers, fn, name: str, example: str, auth: tuple[str, str] | None = None):
        self.h, self.fn, self.name, self.example, self.auth = h, fn, name, example, auth
        self.slots = Slots(VERB_RUNNING, VERB_WAITING)

    def run(self, body) -> JSONResponse:
        try:
            return JSONResponse(self.fn(self.h, body))
        except UserError as exc:
            LOG.info("rejected %s: %s", self.name, str(exc)[:200])
            return error(400, str(exc))

    async def handle(self, request: Request):
        refused = unauthorized(request, self.auth)
        if refused is not None:
            return refused
        data = await read_json(request, self.example)
        if isinstance(data, Response):
            return data
        async with self.slots.limit() as busy:
            return busy or await run_in_threadpool(self.run, data)


class DragRoute:
    """/v1/drag: a slider drag's previews (explorer.serve.drag), keyed by the drag's token instead of a login."""

    def __init__(self, drags: Drags):
        self.drags = drags
        self.slots = Slots(DRAG_RUNNING, DRAG_WAITING)

    def preview(self, drag, values, asked) -> Response:
        try:
            r = self.drags.render(drag, values)
        except UserError as exc:
            LOG.info("rejected /v1/drag: %s", str(exc)[:200])
            return error(400, str(exc))
        sound, mime, seconds = self.drags.sound(r, asked)
        # the file's name: when the release shows this same file through Gradio, the page plays on where it was
        return Response(drag_payload(figures.to_json(r.figure), sound), media_type="application/octet-stream",
                        headers={"Cache-Control": "no-store", "X-Melody-File": Path(r.wav_path).name,
                                 "X-Melody-Audio": mime, "X-Melody-Seconds": f"{seconds:.3f}"})

    async def drag(self, request: Request):
        data = await read_json(request, '{"token": "...", "sliders": [...]}')
        if isinstance(data, Response):
            return data
        if not isinstance(data, dict):
            return error(400, 'Send a JSON object like {"token": "...", "sliders": [...]}.')
        try:
            drag = self.drags.begin(data.get("token"))  # on arrival: a release that comes next waits for it
        except KeyError:
            return error(404, "This slider drag is over or unknown: press the slider again.")
        async with self.slots.limit() as busy:
            return busy or await run_in_threadpool(self.preview, drag, data.get("sliders"), data.get("audio"))


def add_routes(app, h: Handlers, drags: Drags, auth: tuple[str, str] | None = None) -> list[str]:
    """Add the /v1 routes to a FastAPI app (Gradio's own, after launch); returns their paths."""
    decode, drag = DecodeRoutes(h, auth), DragRoute(drags)
    harmonise = VerbRoute(h, harmonise_body, "/v1/harmonise", '{"melody": "...", "chords": "Am F C G"}', auth)
    regenerate = VerbRoute(h, regenerate_body, "/v1/regenerate", '{"melody": "...", "keep": [1, 2], "n": 4}', auth)
    routes = [("/v1/decode", decode.decode_json, ["POST"]), ("/v1/decode.mid", decode.decode_mid, ["POST"]),
              ("/v1/health", decode.health, ["GET"]), ("/v1/drag", drag.drag, ["POST"]),
              ("/v1/harmonise", harmonise.handle, ["POST"]), ("/v1/regenerate", regenerate.handle, ["POST"])]
    for path, fn, methods in routes:
        app.add_api_route(path, fn, methods=methods, include_in_schema=False)
    # Gradio's routes come first in the app; ours must be matched before any catch-all, so move them up.
    added = app.router.routes[-len(routes):]
    del app.router.routes[-len(routes):]
    app.router.routes[0:0] = added
    return [p for p, _, _ in routes]
