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
        const p = ev && ev.points && ev.points[0];
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
  // and at once when Gradio puts a new plot in the page, so a click right after an update is not lost
  new MutationObserver(bind).observe(document.body, {childList: true, subtree: true});
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
