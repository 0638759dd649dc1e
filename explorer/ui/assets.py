"""The page's JavaScript and CSS."""

# Plotly has no click event in gr.Plot (Gradio 6): bridge plotly_click to a hidden textbox, and keep
# the page URL carrying the current melody's share code.
JS = """
() => {
  const bind = () => {
    for (const gd of document.querySelectorAll('#corpus-map .js-plotly-plot')) {
      if (gd.__melodyBound || !gd.on) continue;
      gd.__melodyBound = true;
      gd.on('plotly_click', (ev) => {
        // a point before the density under it (a cell stands for the tune nearest its centre)
        const pts = (ev && ev.points) || [];
        const p = pts.find((q) => q.data && q.data.type !== 'heatmap') || pts[0];
        if (!p || p.customdata === undefined || p.customdata === null) return;
        const box = document.querySelector('#map-click textarea, #map-click input');
        if (!box) return;
        box.value = String(p.customdata) + '|' + Date.now();
        box.dispatchEvent(new Event('input', {bubbles: true}));
      });
    }
    // the note editor: a click is one cell, a drag along a row one note over the cells it selected
    for (const gd of document.querySelectorAll('#note-editor .js-plotly-plot')) {
      if (gd.__melodyBound || !gd.on) continue;
      gd.__melodyBound = true;
      const send = (msg) => {
        const box = document.querySelector('#editor-gesture textarea, #editor-gesture input');
        if (!box) return;
        box.value = msg + '|' + Date.now();
        box.dispatchEvent(new Event('input', {bubbles: true}));
      };
      gd.on('plotly_click', (ev) => {
        const p = ev && ev.points && ev.points.find((q) => q.data && q.data.name === 'cells');
        if (p && p.customdata) send('click|' + p.customdata);
      });
      // the row is where the drag began: Plotly turns a nearly level drag into a band over every row
      gd.addEventListener('mousedown', (e) => {
        const L = gd._fullLayout, box = gd.getBoundingClientRect();
        gd.__dragPitch = L && L.yaxis ? Math.round(L.yaxis.p2l(e.clientY - box.top - L._size.t)) : null;
      }, true);
      gd.on('plotly_selected', (ev) => {
        const cells = ((ev && ev.points) || []).filter((q) => q.data && q.data.name === 'cells' && q.customdata)
          .map((q) => String(q.customdata).split(',').map(Number));
        const steps = [...new Set(cells.map(([s]) => s))];
        if (steps.length < 2 || gd.__dragPitch === null || gd.__dragPitch === undefined) return;  // a click
        send('span|' + Math.min(...steps) + ',' + Math.max(...steps) + ',' + gd.__dragPitch);
      });
    }
  };
  setInterval(bind, 400);
  // and when Gradio puts a new plot in the page (once per frame however many nodes changed), so a click right
  // after an update is not lost
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; bind(); });
  }).observe(document.body, {childList: true, subtree: true});
  // Dragging a slider renders previews (the piano roll and the audio); letting it go completes the panel
  // (explorer.ui.sliders). The page tells the server whether a slider is held through a hidden box, which Gradio
  // reads when it sends a render (also a render that waited for the one before), and presses Render when the
  // slider is let go (mouse-up, key-up, leaving the number box or pressing Enter in it).
  const gesture = (v) => {
    const box = document.querySelector('#slider-gesture textarea, #slider-gesture input');
    if (box && box.value !== v) { box.value = v; box.dispatchEvent(new Event('input', {bubbles: true})); }
  };
  const letGo = () => {
    gesture('free');
    setTimeout(() => { const b = document.getElementById('render-btn'); if (b) b.click(); }, 0);
  };
  const onSlider = (e, kind) => e.target && e.target.matches && e.target.matches(`.slider-grid input[type=${kind}]`);
  const on = (type, kind, fn, keys) => document.addEventListener(type, (e) => {
    if (onSlider(e, kind) && (!keys || keys(e.key))) fn();
  }, true);
  const moves = (k) => k !== 'Tab' && k !== 'Shift';
  on('pointerdown', 'range', () => gesture('held'));
  on('pointerup', 'range', letGo);
  on('pointercancel', 'range', letGo);
  on('keydown', 'range', () => gesture('held'), moves);
  on('keyup', 'range', letGo, moves);
  on('focusin', 'number', () => gesture('held'));
  on('focusout', 'number', letGo);
  on('keydown', 'number', letGo, (k) => k === 'Enter');
}
"""
SET_URL_JS = """
(code) => {
  if (code) { const u = new URL(window.location.href); u.searchParams.set('m', code); window.history.replaceState(null, '', u); }
  return code;
}
"""
MOVE_STAR_JS = """
(pos) => {
  const gd = document.querySelector('#corpus-map .js-plotly-plot');
  if (!pos || !gd || !gd.data || !window.Plotly) return pos;
  const [x, y] = pos.split(',').map(Number);
  const i = gd.data.findIndex((t) => t.name === 'current melody');
  if (i >= 0) window.Plotly.restyle(gd, {x: [[x]], y: [[y]]}, [i]);
  return pos;
}
"""
COPY_LINK_JS = "() => { navigator.clipboard && navigator.clipboard.writeText(window.location.href); }"
CSS = """
#title-md p { font-size: 1.05em; margin: 0; }
.slider-grid .gr-slider { margin-bottom: 0; }
footer { display: none !important; }
"""
