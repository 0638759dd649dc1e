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
  };
  setInterval(bind, 400);
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
