"""The note editor's script: clicks and drags on the Plotly grid edit the notes in the page, drawn at once.

Before, every click was a server round trip (about 1.5 s a note on a busy machine). Now the page keeps the
notes, applies explorer.session.editor's rules itself (a click adds a beat-long note cut at the next onset or
removes the note it hits, a drag along a row sets one note over its cells, one note at a time), redraws the
"notes" trace and writes the list into the hidden box #editor-notes, which no event listens to. "Use these
notes" sends that box once, and the server checks the notes by the same rules (editor.parse_notes). A new figure
from the server (open, start from the current melody, clear) carries its notes in layout.meta and replaces what
was drawn.
"""

from explorer.ui.assets import BOXES_JS, rebind_js

# The body of a gr.HTML js_on_load (Gradio runs it with `element`, `trigger`, `props` when the block mounts).
EDITOR_JS = """
if (window.__noteEditorLocal) return;
window.__noteEditorLocal = true;
""" + BOXES_JS + """const byStart = (ns) => ns.slice().sort((a, b) => a[1] - b[1] || a[0] - b[0]);
// explorer.session.editor.place: the note sounding at the new onset ends there, notes starting inside go
const place = (ns, nw) => {
  const out = [];
  for (let n of byStart(ns)) {
    if (nw[1] <= n[1] && n[1] < nw[2]) continue;
    if (n[1] < nw[1] && nw[1] < n[2]) n = [n[0], n[1], nw[1]];
    out.push(n);
  }
  return byStart([...out, nw]);
};
// editor.click: remove the note of this pitch sounding here, else a beat (or up to the next onset)
const click = (ns, step, pitch, m) => {
  const hit = ns.find((n) => n[0] === pitch && n[1] <= step && step < n[2]);
  if (hit) return ns.filter((n) => n !== hit);
  const nxt = Math.min(m.steps, ...ns.filter((n) => n[1] > step).map((n) => n[1]));
  return place(ns, [pitch, step, Math.min(step + m.click_steps, nxt, m.steps)]);
};
// editor.span: one note exactly over the cells first..last of one row
const span = (ns, a, b, pitch, m) => place(ns, [pitch, Math.max(0, Math.min(a, b)), Math.min(m.steps, Math.max(a, b) + 1)]);
const draw = (gd) => {
  const m = gd.__editor, xs = [], ys = [];
  for (const [p, s, e] of m.notes) { xs.push(s / m.bar, (e - 0.15) / m.bar, null); ys.push(p, p, null); }
  const cells = gd.data.findIndex((t) => t.name === 'cells'), notes = gd.data.findIndex((t) => t.name === 'notes');
  if (cells >= 0) window.Plotly.restyle(gd, {selectedpoints: [null]}, [cells]);
  if (notes >= 0) window.Plotly.restyle(gd, {x: [xs], y: [ys]}, [notes]);
  setBox('editor-notes', JSON.stringify(m.notes));
};
const edit = (gd, f) => {
  gd.__editor.notes = f(gd.__editor.notes, gd.__editor);
  gd.__editor.edits = (gd.__editor.edits || 0) + 1;
  draw(gd);
};
const bind = () => {
  const gd = document.querySelector('#note-editor .js-plotly-plot');
  if (!gd || !gd.on || !gd.layout || !gd.layout.meta || !window.Plotly) return;
  const meta = gd.layout.meta;
  if (!gd.__editor || gd.__editor.rev !== meta.rev) {  // a figure from the server: its notes replace the page's
    gd.__editor = {...meta, notes: byStart((meta.notes || []).map((n) => n.map(Number)))};
    setBox('editor-notes', JSON.stringify(gd.__editor.notes));
  }
  if (gd.__editorBound) return;
  gd.__editorBound = true;
  // Clicks and drags are read from the mouse itself, not Plotly's click events: two clicks in quick succession
  // are a double-click to Plotly (no plotly_click for the second), and a drag's row is where it began.
  const cellAt = (e) => {
    const L = gd._fullLayout, box = gd.getBoundingClientRect(), m = gd.__editor;
    if (!L || !L.xaxis || !L.yaxis || !L._size) return null;
    const px = e.clientX - box.left - L._size.l, py = e.clientY - box.top - L._size.t;
    if (px < 0 || py < 0 || px > L._size.w || py > L._size.h) return null;
    const step = Math.floor(L.xaxis.p2l(px) * m.bar), pitch = Math.round(L.yaxis.p2l(py));
    const [lo, hi] = L.yaxis.range;
    return step >= 0 && step < m.steps && pitch >= Math.ceil(lo) && pitch <= Math.floor(hi) ? [step, pitch] : null;
  };
  gd.addEventListener('mousedown', (e) => {
    gd.__down = e.button === 0 ? {x: e.clientX, y: e.clientY, cell: cellAt(e)} : null;
  }, true);
  window.addEventListener('mouseup', (e) => {
    const down = gd.__down;
    gd.__down = null;
    if (!down || !down.cell || !document.body.contains(gd)) return;
    const [step, pitch] = down.cell;
    if (Math.abs(e.clientX - down.x) < 5 && Math.abs(e.clientY - down.y) < 5) {
      edit(gd, (ns, m) => click(ns, step, pitch, m));
      return;
    }
    // a drag: one note on the row where it began, over the steps from there to where it ended
    const L = gd._fullLayout, box = gd.getBoundingClientRect(), m = gd.__editor;
    const x = Math.min(Math.max(e.clientX - box.left - L._size.l, 0), L._size.w);
    const last = Math.min(Math.max(Math.floor(L.xaxis.p2l(x) * m.bar), 0), m.steps - 1);
    edit(gd, (ns, mm) => span(ns, step, last, pitch, mm));
  }, true);
};
""" + rebind_js(300)
