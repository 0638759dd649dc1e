"""The page's JavaScript and CSS."""

from explorer.ui.drag_script import DRAG_JS

# A hidden textbox (visible="hidden") is how the page's script talks to the app: write a value and dispatch
# `input`, and the box's .change event runs (explorer.ui screens wire them).
BOXES_JS = """
  const boxOf = (id) => document.querySelector(`#${id} textarea, #${id} input`);
  const setBox = (id, v) => {
    const box = boxOf(id);
    if (box && box.value !== v) { box.value = v; box.dispatchEvent(new Event('input', {bubbles: true})); }
  };
"""


def rebind_js(every_ms: int) -> str:
    """Script lines that run the script's `bind()` every `every_ms` and as soon as Gradio puts new nodes in the
    page (once a frame however many changed), so a click right after an update is not lost."""
    return f"""
  setInterval(bind, {int(every_ms)});
  let queued = false;
  new MutationObserver(() => {{
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {{ queued = false; bind(); }});
  }}).observe(document.body, {{childList: true, subtree: true}});
"""


# Plotly has no click event in gr.Plot (Gradio 6): bridge the map's plotly_click to a hidden textbox (a nonce, so
# that the same click twice still counts). The note editor draws in the page (explorer.ui.editor_script).
_PLOT_BRIDGES = """
  const bind = () => {
    for (const gd of document.querySelectorAll('#corpus-map .js-plotly-plot')) {
      if (gd.__melodyBound || !gd.on) continue;
      gd.__melodyBound = true;
      gd.on('plotly_click', (ev) => {
        // a point before the density under it (a cell stands for the tune nearest its centre)
        const pts = (ev && ev.points) || [];
        const p = pts.find((q) => q.data && q.data.type !== 'heatmap') || pts[0];
        if (!p || p.customdata === undefined || p.customdata === null) return;
        setBox('map-click', String(p.customdata) + '|' + Date.now());
      });
    }
  };
""" + rebind_js(400)
# Loop: Gradio's `loop` update never reached the <audio> element (the player stopped at the end), and every
# render puts a new player in the page: the checkbox's state is set on every <audio>, when it changes and when
# a player starts loading (media events do not bubble, but a capturing listener on the document sees them).
_LOOP = """
  const loopOn = () => { const cb = document.querySelector('#loop-cb input'); return !!(cb && cb.checked); };
  const applyLoop = () => {
    const on = loopOn();
    for (const a of document.querySelectorAll('audio')) { if (a.loop !== on) a.loop = on; }
  };
  document.addEventListener('change', (e) => { if (e.target.closest && e.target.closest('#loop-cb')) applyLoop(); }, true);
  document.addEventListener('loadstart', applyLoop, true);
  setInterval(applyLoop, 500);
"""
# The page's script (launch(js=...)): runs once when the page loads.
JS = "() => {" + BOXES_JS + _PLOT_BRIDGES + _LOOP + DRAG_JS + "}"
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
