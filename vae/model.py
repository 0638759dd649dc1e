"""MusicVAE-style melody VAE: bidirectional GRU encoder, hierarchical (conductor + bar) GRU decoder."""

from __future__ import annotations

import functools
import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from vae.config import ModelConfig
from vae.constants import FIRST_NOTE_ON, HOLD, NOTE_OFF, VOCAB_SIZE

MIN_TEMPERATURE = 1e-3  # below this, sampling is greedy decoding (and dividing by it would overflow)

class MelodyVAE(nn.Module):
    """Encode token windows [B, T] to a Gaussian posterior over z [B, Z]; decode z back to logits [B, T, V].

    With `hierarchical`, a conductor GRU turns z into one vector per bar and one shared bar GRU decodes
    each bar's 16 steps from it, so every bar sees z through a short path (MusicVAE's remedy for
    posterior collapse). Without it, one GRU decodes all T steps with z fed at every step.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        v, e = cfg.vocab_size, cfg.embed_dim
        self.start_index = v  # extra embedding row: "no previous token"
        self.embed = nn.Embedding(v + 1, e)
        self.encoder = nn.GRU(e, cfg.enc_hidden, cfg.enc_layers, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * cfg.enc_hidden * cfg.enc_layers, cfg.latent_dim)
        self.to_logvar = nn.Linear(2 * cfg.enc_hidden * cfg.enc_layers, cfg.latent_dim)
        if cfg.hierarchical:
            self.cond_init = nn.Linear(cfg.latent_dim, cfg.conductor_hidden)
            self.conductor = nn.GRU(cfg.latent_dim, cfg.conductor_hidden, batch_first=True)
            ctx = cfg.conductor_hidden
        else:
            ctx = cfg.latent_dim
        self.dec_init = nn.Linear(ctx, cfg.dec_hidden * cfg.dec_layers)
        self.decoder = nn.GRU(e + ctx, cfg.dec_hidden, cfg.dec_layers, batch_first=True,
                              dropout=cfg.dropout if cfg.dec_layers > 1 else 0.0)
        self.out = nn.Linear(cfg.dec_hidden, v)

    # --- encoder -------------------------------------------------------------------------------
    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens [B, T] long -> (mu [B, Z], logvar [B, Z]), both float32."""
        _, h = self.encoder(self.embed(tokens))  # h [layers*2, B, H]
        h = h.transpose(0, 1).reshape(tokens.shape[0], -1)
        return self.to_mu(h).float(), self.to_logvar(h).float().clamp(-12.0, 8.0)

    # --- decoder -------------------------------------------------------------------------------
    def _contexts(self, z: torch.Tensor, detail: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, Z] -> per-unit context [B, U, C]: U bars (hierarchical) or 1 (flat).

        detail: an offset added to each unit's context, [U, C] (the same for every row) or [B, U, C]: what a
        melody holds beyond what z can say (vae.fidelity.fit_detail), None for none.
        """
        if not self.cfg.hierarchical:
            ctx = z[:, None, :]
        else:
            b, n = z.shape[0], self.cfg.num_bars
            h0 = torch.tanh(self.cond_init(z))[None]
            ctx, _ = self.conductor(z[:, None, :].expand(b, n, z.shape[1]).contiguous(), h0)
        return ctx if detail is None else ctx + detail.to(ctx.dtype)

    @property
    def detail_shape(self) -> tuple[int, int]:
        """(units, context size): the shape of a melody's detail (see _contexts)."""
        units, _ = self._units()
        return units, self.cfg.conductor_hidden if self.cfg.hierarchical else self.cfg.latent_dim

    def _units(self) -> tuple[int, int]:
        """(units, steps per unit) of the decoder layout."""
        if self.cfg.hierarchical:
            return self.cfg.num_bars, self.cfg.bar_steps
        return 1, self.cfg.seq_len

    def _init_hidden(self, ctx: torch.Tensor) -> torch.Tensor:
        """ctx [N, C] -> GRU initial state [layers, N, H]."""
        h = torch.tanh(self.dec_init(ctx))
        return h.view(ctx.shape[0], self.cfg.dec_layers, self.cfg.dec_hidden).transpose(0, 1).contiguous()

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, detail: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced decoding. z [B, Z], inputs [B, T] (previous tokens, start index first), detail [U, C] or
        [B, U, C] or None (see _contexts) -> logits [B, T, V]."""
        b, t = inputs.shape
        units, steps = self._units()
        ctx = self._contexts(z, detail)  # [B, U, C]
        emb = self.embed(inputs).view(b * units, steps, -1)
        ctx_flat = ctx.reshape(b * units, -1)
        x = torch.cat([emb, ctx_flat[:, None, :].expand(-1, steps, -1)], dim=-1)
        out, _ = self.decoder(x, self._init_hidden(ctx_flat))
        return self.out(out).view(b, t, -1)

    def shift_inputs(self, tokens: torch.Tensor) -> torch.Tensor:
        """Previous-token inputs for teacher forcing: [start, x0, ..., x_{T-2}]."""
        start = torch.full_like(tokens[:, :1], self.start_index)
        return torch.cat([start, tokens[:, :-1]], dim=1)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, temperature: float = 0.0, generator: torch.Generator | None = None,
                 detail: torch.Tensor | None = None) -> torch.Tensor:
        """Autoregressive decoding. z [B, Z] (detail [U, C] / [B, U, C] / None) -> tokens [B, T]; temperature 0
        is greedy (argmax), and so is any temperature below MIN_TEMPERATURE (logits / 1e-300 overflow to inf)."""
        if temperature < MIN_TEMPERATURE:
            temperature = 0.0
        if self.cfg.dec_layers == 1:
            return self._generate_fused(z, temperature, generator, detail)
        return self.generate_reference(z, temperature, generator, detail)

    def _pick(self, logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
        if temperature <= 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits.float() / temperature, -1)
        return torch.multinomial(probs, 1, generator=generator)[:, 0]

    def _decode_loop(self, z: torch.Tensor, temperature: float, generator: torch.Generator | None,
                     bar_start, step, detail: torch.Tensor | None = None, pick=None) -> torch.Tensor:
        """Shared autoregressive loop: bar_start(c) -> state at each unit's start; step(prev, c, state) ->
        (logits [B, V], state). Both decoders below differ only in those two functions. pick(logits [B, V], t) ->
        tokens [B] chooses step t's token (default: _pick at `temperature`; generate_locked constrains it)."""
        b = z.shape[0]
        units, steps = self._units()
        ctx = self._contexts(z, detail)
        prev = torch.full((b,), self.start_index, dtype=torch.long, device=z.device)
        out = torch.empty(b, units * steps, dtype=torch.long, device=z.device)
        for u in range(units):
            c = ctx[:, u]
            state = bar_start(c)
            for s in range(steps):
                logits, state = step(prev, c, state)
                t = u * steps + s
                prev = self._pick(logits.float(), temperature, generator) if pick is None else pick(logits.float(), t)
                out[:, t] = prev
        return out

    @torch.no_grad()
    def generate_reference(self, z: torch.Tensor, temperature: float = 0.0,
                           generator: torch.Generator | None = None, detail: torch.Tensor | None = None) -> torch.Tensor:
        """The plain decoding loop through nn.GRU, one step at a time (any number of layers)."""
        return self._decode_loop(z, temperature, generator, *self._reference_steps(), detail)

    @torch.no_grad()
    def _generate_fused(self, z: torch.Tensor, temperature: float, generator: torch.Generator | None,
                        detail: torch.Tensor | None = None) -> torch.Tensor:
        """The same loop for a 1-layer decoder with the GRU cell written out: each token's input product is a
        table lookup and the bar context's is computed once per bar (less work per step on a CPU). Greedy
        decoding runs the loop as TorchScript (_greedy_loop): the same operations, in C++ without Python's
        GIL, so concurrent requests on a server do not queue behind each other between steps."""
        if temperature > 0:
            return self._decode_loop(z, temperature, generator, *self._fused_steps(), detail)
        e = self.cfg.embed_dim
        w_ih = self.decoder.weight_ih_l0
        b_ih, b_hh = self.decoder.bias_ih_l0, self.decoder.bias_hh_l0
        token_proj = self.embed.weight @ w_ih[:, :e].t()  # [V+1, 3H]
        w_hh_t = self.decoder.weight_hh_l0.t().contiguous()
        units, steps = self._units()
        ctx = self._contexts(z, detail)  # [B, U, C]
        flat = ctx.reshape(-1, ctx.shape[-1])
        ctx_proj = torch.addmm(b_ih, flat, w_ih[:, e:].t()).view(ctx.shape[0], units, -1)
        h0 = self._init_hidden(flat)[0].view(ctx.shape[0], units, -1)
        prev = torch.full((z.shape[0],), self.start_index, dtype=torch.long, device=z.device)
        return _greedy_loop()(ctx_proj, h0, token_proj, w_hh_t, b_hh, self.out.weight.t(), self.out.bias, prev, steps)

    def _fused_steps(self):
        """(bar_start, step) of _decode_loop for a 1-layer decoder with the GRU cell written out (see _generate_fused)."""
        e = self.cfg.embed_dim
        w_ih = self.decoder.weight_ih_l0
        b_ih, b_hh = self.decoder.bias_ih_l0, self.decoder.bias_hh_l0
        token_proj = self.embed.weight @ w_ih[:, :e].t()  # [V+1, 3H]
        w_hh_t = self.decoder.weight_hh_l0.t().contiguous()

        def bar_start(c):
            return torch.addmm(b_ih, c, w_ih[:, e:].t()), self._init_hidden(c)[0]

        def step(prev, c, state):
            ctx_proj, h = state
            h = _gru_cell(token_proj[prev] + ctx_proj, h, w_hh_t, b_hh)
            return self.out(h), (ctx_proj, h)

        return bar_start, step

    def _reference_steps(self):
        """(bar_start, step) of _decode_loop through nn.GRU, one step at a time (any number of layers)."""

        def step(prev, c, h):
            y, h = self.decoder(torch.cat([self.embed(prev), c], dim=-1)[:, None, :], h)
            return self.out(y[:, 0]), h

        return self._init_hidden, step

    @torch.no_grad()
    def generate_locked(self, z: torch.Tensor, locked: torch.Tensor, tokens: torch.Tensor,
                        allowed: torch.Tensor | None = None, sound: torch.Tensor | None = None,
                        temperature: float = 0.0, generator: torch.Generator | None = None,
                        detail: torch.Tensor | None = None, score: bool = False,
                        rule=None) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Autoregressive decoding with some steps forced: z [B, Z] -> tokens [B, T] (with score: and the decoder's
        NLL of those tokens [B], summed over steps, unconstrained: how likely the model finds the result).

        locked: bool [T] or [B, T], the steps whose token is given; tokens: long [T] or [B, T], the tokens put
        there (read at locked steps only). A locked step's token is written and fed back as the next input
        whatever the decoder predicts (teacher forcing), so locked steps come out exactly as given.
        allowed: bool [T, V] or [B, T, V] or None, the tokens an unlocked step may take (a rhythm lock allows only
        note-ons where the original has one, only HOLD where it holds ...); every unlocked step needs one.
        sound: long [T] or [B, T] or None, what must sound once a step is played: -2 free, -1 silence, a note-on
        token p: pitch p (HOLD then stays allowed only if it keeps that state; else NOTE_OFF or p is played). It
        lets a regenerated bar hand a locked bar that starts with HOLD the note or rest that bar continues.
        rule: a constraint that depends on what was decoded so far, for this one call (None: none):
        rule.mask(t) -> bool [B, V] (or None) the tokens step t may take, rule.after(t, tokens [B]) once step t is
        chosen (vae.infill.PitchOrder keeps a pitch sequence under a new rhythm).
        The rest is as generate(): temperature 0 is greedy, detail [U, C] / [B, U, C] offsets the bar contexts.
        With nothing locked, allowed and sound None this is generate() token for token (same generator draws).
        """
        if temperature < MIN_TEMPERATURE:
            temperature = 0.0
        b = z.shape[0]
        t_len = self.cfg.seq_len
        locked = locked.to(z.device, torch.bool).expand(b, t_len)
        tokens = tokens.to(z.device, torch.long).expand(b, t_len)
        if allowed is not None:
            allowed = allowed.to(z.device, torch.bool).expand(b, t_len, self.cfg.vocab_size)
        if sound is not None:
            sound = sound.to(z.device, torch.long).expand(b, t_len)
        state = torch.full((b,), -1, dtype=torch.long, device=z.device)  # what sounds now: -1 silence, else note-on
        rows = torch.arange(b, device=z.device)
        nll = torch.zeros(b, device=z.device)

        def pick(logits: torch.Tensor, t: int) -> torch.Tensor:
            nonlocal state, nll
            raw = logits
            if allowed is not None:
                logits = logits.masked_fill(~allowed[:, t], -math.inf)
            if sound is not None:
                need = sound[:, t]
                ok = torch.ones_like(logits, dtype=torch.bool)
                silent, pitched = need == -1, need >= FIRST_NOTE_ON
                # silence: NOTE_OFF, or HOLD when already silent; pitch p: note-on p, or HOLD when p already sounds
                ok[silent] = False
                ok[silent, NOTE_OFF] = True
                ok[pitched] = False
                ok[rows[pitched], need[pitched]] = True
                ok[:, HOLD] |= (silent & (state == -1)) | (pitched & (state == need))
                logits = logits.masked_fill(~ok, -math.inf)
            if rule is not None and (may := rule.mask(t)) is not None:
                logits = logits.masked_fill(~may, -math.inf)
            # a locked row's constraints may exclude every token: its draw is discarded, but must not fail
            logits = logits.masked_fill(locked[:, t, None], 0.0)
            free = ~locked[:, t]
            tok = tokens[:, t]
            if free.any():
                tok = torch.where(locked[:, t], tok, self._pick(logits, temperature, generator))
            state = torch.where(tok >= FIRST_NOTE_ON, tok, torch.where(tok == NOTE_OFF, -1, state))
            if rule is not None:
                rule.after(t, tok)
            if score:
                nll = nll - torch.log_softmax(raw, -1)[rows, tok]
            return tok

        bar_start, step = self._fused_steps() if self.cfg.dec_layers == 1 else self._reference_steps()
        out = self._decode_loop(z, temperature, generator, bar_start, step, detail, pick=pick)
        return (out, nll) if score else out

    # --- training ------------------------------------------------------------------------------
    def forward(self, tokens: torch.Tensor, beta: float = 1.0, free_bits: float = 0.0,
                sampling_rate: float = 0.0) -> dict[str, torch.Tensor]:
        """Loss for a batch. tokens [B, T] -> dict(loss, recon, kl, accuracy, event_accuracy, logits [B, T, V], mu [B, Z]).

        recon is mean token cross-entropy; kl is mean nats per window; loss = recon + beta *
        max(kl - free_bits, 0) / T (per-token scale, so beta means what it means in MusicVAE per window).
        sampling_rate > 0 applies parallel scheduled sampling: a first pass predicts every token and
        that share of the inputs is replaced by the model's own guesses.
        """
        mu, logvar = self.encode(tokens)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        inputs = self.shift_inputs(tokens)
        if sampling_rate > 0:
            with torch.no_grad():
                guess = self.decode_logits(z, inputs).argmax(-1)
            mask = torch.rand(tokens.shape, device=tokens.device) < sampling_rate
            inputs = torch.where(mask, self.shift_inputs(guess), inputs)
        logits = self.decode_logits(z, inputs)
        recon = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tokens.reshape(-1))
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1).mean()
        kl_cost = torch.clamp(kl - free_bits, min=0.0)
        loss = recon + beta * kl_cost / tokens.shape[1]
        with torch.no_grad():
            pred = logits.argmax(-1)
            correct = pred == tokens
            events = tokens != HOLD
            acc = correct.float().mean()
            event_acc = correct[events].float().mean() if events.any() else torch.tensor(math.nan)
        return {"loss": loss, "recon": recon, "kl": kl, "accuracy": acc, "event_accuracy": event_acc, "logits": logits,
                "mu": mu}


def transpose_batch(tokens: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each window's note-ons by a random number of semitones in [-max_shift, max_shift] when it stays in range."""
    if max_shift <= 0:
        return tokens
    b = tokens.shape[0]
    shift = torch.randint(-max_shift, max_shift + 1, (b, 1), generator=generator).to(tokens.device)
    is_on = tokens >= FIRST_NOTE_ON
    moved = torch.where(is_on, tokens + shift, tokens)
    ok = ((moved >= FIRST_NOTE_ON) | ~is_on).all(1) & ((moved < VOCAB_SIZE) | ~is_on).all(1)
    return torch.where(ok[:, None], moved, tokens)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _gru_cell(gi: torch.Tensor, h: torch.Tensor, w_hh_t: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One step of a GRU cell (PyTorch's gate order r, z, n) given the input product gi [B, 3H] -> new h [B, H]."""
    hdim = h.shape[1]
    gh = torch.addmm(b_hh, h, w_hh_t)
    r = torch.sigmoid(gi[:, :hdim] + gh[:, :hdim])
    g = torch.sigmoid(gi[:, hdim : 2 * hdim] + gh[:, hdim : 2 * hdim])
    n = torch.tanh(gi[:, 2 * hdim :] + r * gh[:, 2 * hdim :])
    return n + g * (h - n)


def _greedy_loop_py(ctx_proj: torch.Tensor, h0: torch.Tensor, token_proj: torch.Tensor, w_hh_t: torch.Tensor,
                    b_hh: torch.Tensor, w_out_t: torch.Tensor, b_out: torch.Tensor, prev: torch.Tensor,
                    steps: int) -> torch.Tensor:
    """Greedy decoding of a fused 1-layer GRU decoder: ctx_proj [B, U, 3H] (bar context's input product +
    b_ih), h0 [B, U, H] (each unit's initial state), token_proj [V+1, 3H] -> tokens [B, U * steps]."""
    b, units = h0.shape[0], h0.shape[1]
    out = torch.empty(b, units * steps, dtype=torch.long, device=h0.device)
    for u in range(units):
        cp = ctx_proj[:, u]
        h = h0[:, u]
        for s in range(steps):
            h = _gru_cell(token_proj[prev] + cp, h, w_hh_t, b_hh)
            prev = torch.addmm(b_out, h, w_out_t).argmax(-1)
            out[:, u * steps + s] = prev
    return out


@functools.cache
def _greedy_loop():
    """_greedy_loop_py compiled by TorchScript once, on first use (nothing is compiled at import).

    torch 2.13 marks torch.jit.script deprecated but runs it; torch.compile is no substitute here (minutes of
    C++ compilation per shape, and its Python wrapper holds the GIL). Where scripting is unavailable the
    same loop runs in Python, with the same results."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(_greedy_loop_py)
    except (AttributeError, RuntimeError):  # a torch without TorchScript
        return _greedy_loop_py

