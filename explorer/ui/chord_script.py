"""The chord symbols' script: a click on a chord over the piano roll opens it for editing in the "Your chords" box.

The box is filled with the chords shown (the melody's harmonisation) when it is empty; then it takes the focus
with the clicked chord selected, so a composer types its replacement and presses Enter (the box's submit plays the
melody over the line). Where each symbol stands in the typed line comes with the figure (layout.meta.chord_at:
[bar, position in the bar], explorer.media.figures.chord_places); the bars of the box's text are read as
vae.chords.parse_progression reads them (bar lines '|', or one chord a bar; a trailing 'in KEY' is not a chord),
and a shorter line repeats from the top over the melody, as it is played.
"""

from explorer.ui.assets import rebind_js

# The body of a gr.HTML js_on_load (Gradio runs it with `element`, `trigger`, `props` when the block mounts).
CHORD_JS = """
if (window.__chordClick) return;
window.__chordClick = true;
const chordBox = () => document.querySelector('#your-chords textarea, #your-chords input');
// [[start, end] of each chord word] per bar, at their places in the text (parse_progression's reading)
const chordWords = (text) => {
  const key = /^([\\s\\S]*?)\\s+in\\s+(.+?)\\s*$/.exec(text);
  const body = (key ? key[1] : text).replace(/[:\\[\\]]/g, '|');  // repeat signs and double bars are bar lines
  const bars = [];
  if (body.includes('|')) {
    let bar = [];
    for (const t of body.matchAll(/\\||[^\\s|]+/g)) {
      if (t[0] === '|') { if (bar.length) bars.push(bar); bar = []; } else bar.push([t.index, t.index + t[0].length]);
    }
    if (bar.length) bars.push(bar);
  } else {
    for (const t of body.matchAll(/\\S+/g)) bars.push([[t.index, t.index + t[0].length]]);
  }
  return bars;
};
const editChord = (gd, index) => {
  const meta = (gd.layout && gd.layout.meta) || {};
  const at = (meta.chord_at || [])[index];
  const box = chordBox();
  if (!at || !box) return;
  if (!box.value.trim() && meta.chord_line) {
    box.value = meta.chord_line;
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }
  const bars = chordWords(box.value);
  if (!bars.length) { box.focus(); return; }
  const bar = bars[at[0] % bars.length], word = bar[Math.min(at[1], bar.length - 1)];
  const select = () => { box.focus(); box.setSelectionRange(word[0], word[1]); };
  select();
  requestAnimationFrame(select);  // after the box has taken its new value
};
const bind = () => {
  for (const gd of document.querySelectorAll('#piano-roll .js-plotly-plot')) {
    // a new plot (Plotly.newPlot) gets new event listeners: bind again when its emitter is not the one bound
    if (!gd.on || (gd.__chordBound && gd.__chordBound === gd._ev)) continue;
    gd.__chordBound = gd._ev || true;
    gd.on('plotly_clickannotation', (ev) => { if (ev && ev.index !== undefined) editChord(gd, ev.index); });
  }
};
""" + rebind_js(400)
