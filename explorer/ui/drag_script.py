"""The page's script for a slider drag heard as it moves (explorer.serve.drag): part of explorer.ui.assets.JS.

It uses the page script's `boxOf(id)` and `setBox(id, value)` (explorer.ui.assets), and talks to
explorer.ui.sliders (the hidden boxes #slider-hold, #drag-token, #slider-refusal and, without them,
#slider-gesture; the Render button) and to explorer.serve.routes (/v1/drag).
"""

DRAG_JS = """
  // A slider drag is heard as it moves (explorer.serve.drag). Whenever the Sliders screen shows a new melody, the page
  // opens a drag: it writes "open|<nonce>" into a hidden box and the app answers "<nonce>|<token>". While a slider
  // moves, the page sends the slider values with the token to /v1/drag, and draws the piano roll and plays the
  // audio it answers, sending the newest position while it draws the last. Letting go (mouse-up, key-up, leaving
  // the number box or pressing Enter in it) presses Render, which completes the panel through Gradio; when that
  // shows the file already playing, the player goes on where it was. Without those boxes (bench.browser_levers'
  // earlier rows) Gradio's own events render the drag, told whether a slider is held by the box #slider-gesture.
  const drag = {on: false, nonce: '', stale: true, gen: 0, busy: false, sent: '', last: '', seq: 0, drawn: 0,
                wait: 0, url: '', src: '', playing: null, moving: null, sound: 'mp3'};
  const pageDrags = () => !!boxOf('drag-token');
  const player = () => document.querySelector('#melody-audio audio');
  const openDrag = () => {
    drag.nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);
    drag.stale = false;
    setBox('slider-hold', 'open|' + drag.nonce);
  };
  // The values Render will send: each slider's number box (a range input rounds to its step), but the input the
  // drag moves, whose box Gradio updates later.
  const sliderValues = (moving) => {
    const out = [];
    for (let i = 1, el; (el = document.getElementById('pc-' + i)); i++) {
      const input = moving && el.contains(moving) ? moving : el.querySelector('input[type=number]');
      out.push(input && input.value.trim() !== '' ? Number(input.value) : NaN);
    }
    return out;
  };
  const showPreview = (buf, sound) => {
    const n = new DataView(buf).getUint32(0);
    const fig = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    const gd = document.querySelector('#piano-roll [data-testid=plotly]');
    if (gd && window.Plotly) {  // as Gradio's plot draws a figure
      fig.config = Object.assign(fig.config || {}, {responsive: true});
      fig.layout.autosize = true;
      fig.layout.margin = Object.assign(fig.layout.margin || {}, {autoexpand: true});
      window.Plotly.react(gd, fig.data, fig.layout, fig.config);
    }
    const a = player();
    if (!a) return;
    const old = drag.url;
    drag.url = URL.createObjectURL(new Blob([new Uint8Array(buf, 4 + n)], {type: sound.type}));
    a.dataset.melody = sound.file;
    a.src = drag.url;
    a.play().catch(() => {});
    drag.playing = {file: sound.file, at: performance.now(), seconds: sound.seconds};
    if (old) URL.revokeObjectURL(old);
  };
  const pump = async () => {
    if (!drag.on || drag.busy) return;
    const [nonce, token] = ((boxOf('drag-token') || {}).value || '').split('|');
    if (nonce !== drag.nonce || !token) {  // the app has not answered the opening yet
      if (!drag.wait) drag.wait = setTimeout(() => { drag.wait = 0; pump(); }, 15);
      return;
    }
    const values = sliderValues(drag.moving), key = values.join(',');
    if (!values.every(Number.isFinite) || key === drag.sent) return;
    drag.busy = true;
    drag.sent = key;
    const gen = drag.gen, seq = ++drag.seq;
    let res = null;
    try {
      res = await fetch(new URL('v1/drag', location.href), {method: 'POST', headers: {'content-type': 'application/json'},
                                                             body: JSON.stringify({token, sliders: values, audio: drag.sound})});
    } catch (e) { /* the release renders it */ }
    const headers = performance.now();
    drag.busy = false;
    if (res && res.status === 404 && gen === drag.gen) { openDrag(); drag.sent = ''; }  // expired: open another
    pump();  // the newest position goes out while this one is drawn
    if (!res || !res.ok) return;
    const buf = await res.arrayBuffer();
    // The sound to ask for next: the WAV where its extra bytes (~0.3 MB) come in faster than MP3 is encoded and
    // decoded (~15 ms: a link above ~20 MB/s, as on the same machine or a LAN), else MP3 (a fifth of the bytes).
    drag.sound = buf.byteLength / Math.max(performance.now() - headers, 0.5) > 20e3 ? 'wav' : 'mp3';
    // A later press, a newer preview drawn, or let go elsewhere: the release shows the melody
    if (gen !== drag.gen || seq < drag.drawn || (!drag.on && key !== drag.last)) return;
    drag.drawn = seq;
    showPreview(buf, {file: res.headers.get('X-Melody-File') || '', type: res.headers.get('X-Melody-Audio') || '',
                      seconds: Number(res.headers.get('X-Melody-Seconds')) || 0});
  };
  const hold = () => {
    if (!pageDrags()) { setBox('slider-gesture', 'held'); return; }
    if (drag.on) return;
    drag.on = true;
    drag.gen++;
    drag.sent = '';
    drag.moving = null;
    // a new melody, or no drag open (none yet, or bar locks ticked since: the app then answers with no token)
    if (drag.stale || !drag.nonce || !(boxOf('drag-token') || {}).value) openDrag();
  };
  // A number box left out of its slider's range (or empty): Gradio would clamp it silently (or send what the app
  // refuses, with no word on the page); the app says so in a sentence and puts the slider back instead.
  const refused = () => {
    for (let i = 1, el; (el = document.getElementById('pc-' + i)); i++) {
      const box = el.querySelector('input[type=number]');
      const v = box && box.value.trim() !== '' ? Number(box.value) : NaN;
      if (box && !(v >= Number(box.min) && v <= Number(box.max))) return i + '|' + box.value.trim().slice(0, 20);
    }
    return '';
  };
  const letGo = () => {
    const bad = refused();
    if (bad && boxOf('slider-refusal')) {
      drag.on = false;
      drag.gen++;  // a preview on its way is not drawn
      setBox('slider-refusal', bad + '|' + Date.now());
      return;
    }
    if (pageDrags()) { drag.on = false; drag.last = sliderValues(drag.moving).join(','); } else setBox('slider-gesture', 'free');
    setTimeout(() => { const b = document.getElementById('render-btn'); if (b) b.click(); }, 0);
  };
  // Gradio showed a melody in the player: a new drag is due; and when it is the file a drag left playing, go on
  // where that was instead of starting again.
  new MutationObserver(() => {
    const a = player(), src = a ? a.getAttribute('src') || '' : '';
    if (!src || src.startsWith('blob:') || src === drag.src) return;
    drag.src = src;
    drag.stale = true;
    if (!drag.on) drag.gen++;  // the release is shown: a preview still on its way is not drawn over it
    const p = drag.playing;
    drag.playing = null;
    if (p && p.file && src.endsWith('/' + p.file)) {
      const at = (performance.now() - p.at) / 1000;
      if (at < p.seconds || a.loop) {
        a.addEventListener('loadedmetadata', () => { a.currentTime = a.loop ? at % p.seconds : at; }, {once: true});
      }
    }
    const grid = document.querySelector('.slider-grid');
    if (pageDrags() && !drag.on && grid && grid.offsetParent) openDrag();
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  const onSlider = (e, kind) => e.target && e.target.matches && e.target.matches(`.slider-grid input[type=${kind}]`);
  const on = (type, kind, fn, keys) => document.addEventListener(type, (e) => {
    if (onSlider(e, kind) && (!keys || keys(e.key))) fn();
  }, true);
  const moves = (k) => k !== 'Tab' && k !== 'Shift';
  on('pointerdown', 'range', hold);
  on('pointerup', 'range', letGo);
  on('pointercancel', 'range', letGo);
  on('keydown', 'range', hold, moves);
  on('keyup', 'range', letGo, moves);
  on('focusin', 'number', hold);
  on('focusout', 'number', letGo);
  on('keydown', 'number', letGo, (k) => k === 'Enter');
  document.addEventListener('input', (e) => {
    if (drag.on && (onSlider(e, 'range') || onSlider(e, 'number'))) { drag.moving = e.target; pump(); }
  }, true);
"""
