"""The bar locks' script: the piano roll shows the lock checkboxes as they are ticked, and a click on a bar's padlock
ticks its checkbox.

The checkboxes (explorer.ui.regenerate_panel, "Lock bar N") are the source of truth, read by every event
(Page.session), and the keyboard's way in (Tab, Space). Every roll the app draws carries its locks
(layout.meta.lock, explorer.media.figures.lock_layer: a bar's shaded rectangle and both looks of a padlock); when a
checkbox and the roll disagree (a box just ticked, or a render that left before the tick) the script redraws the
roll's lock shapes and padlocks from that meta, in the page, with no round trip. A click on a padlock
(plotly_clickannotation) clicks the bar's checkbox, as a user would: the box's own event then tells the app.
"""

from explorer.ui.assets import rebind_js

# The body of a gr.HTML js_on_load (Gradio runs it with `element`, `trigger`, `props` when the block mounts).
LOCK_JS = """
if (window.__lockRoll) return;
window.__lockRoll = true;
const lockBox = (b) => document.querySelector(`#lock-bar-${b + 1} input`);
// the bars ticked now, or null where a box is not in the page (then the roll keeps what the app drew)
const ticked = (n) => {
  const on = [];
  for (let b = 0; b < n; b++) {
    const box = lockBox(b);
    if (!box) return null;
    if (box.checked) on.push(b);
  }
  return on;
};
const sync = (gd) => {
  const meta = (gd.layout && gd.layout.meta) || {}, lock = meta.lock;
  if (!lock || !window.Plotly || !gd._fullLayout) return;
  const padlocks = (gd.layout.annotations || []).filter((a) => a.name === 'lock');  // one a bar, in bar order
  const on = ticked(padlocks.length);
  if (!on || on.join(',') === lock.bars.join(',')) return;
  const look = (b) => { const l = on.includes(b) ? lock.on : lock.off; return {...l, hovertext: l.hovertext.replace('{bar}', b + 1)}; };
  const shapes = (gd.layout.shapes || []).filter((s) => s.name !== 'locked bar')
    .concat(on.map((b) => ({...lock.shade, x0: b * lock.width, x1: (b + 1) * lock.width})));
  const annotations = (gd.layout.annotations || []).filter((a) => a.name !== 'lock')
    .concat(padlocks.map((a, b) => ({...a, ...look(b)})));
  window.Plotly.relayout(gd, {shapes, annotations, meta: {...meta, lock: {...lock, bars: on}}});
};
const toggle = (gd, ann) => {
  const padlocks = ((gd.layout && gd.layout.annotations) || []).filter((a) => a.name === 'lock');
  const b = padlocks.findIndex((a) => a.x === ann.x);
  if (b < 0) return;
  if (lockBox(b)) { lockBox(b).click(); return; }
  // the Sliders screen, where the boxes are, not in the page yet: open it, and click the box once it is there
  const tab = [...document.querySelectorAll('button[role="tab"]')].find((t) => t.textContent.trim() === 'Sliders');
  if (tab) tab.click();
  let tries = 60;
  const later = () => { const box = lockBox(b); if (box) box.click(); else if (--tries > 0) requestAnimationFrame(later); };
  requestAnimationFrame(later);
};
const syncAll = () => { for (const gd of document.querySelectorAll('#piano-roll .js-plotly-plot')) sync(gd); };
document.addEventListener('change', (e) => {
  if (e.target.closest && e.target.closest('[id^="lock-bar-"]')) syncAll();
}, true);
const bind = () => {
  for (const gd of document.querySelectorAll('#piano-roll .js-plotly-plot')) {
    // a new plot (Plotly.newPlot) gets new event listeners: bind again when its emitter is not the one bound
    if (gd.on && !(gd.__lockBound && gd.__lockBound === gd._ev)) {
      gd.__lockBound = gd._ev || true;
      gd.on('plotly_clickannotation', (ev) => {
        if (ev && ev.annotation && ev.annotation.name === 'lock') toggle(gd, ev.annotation);
      });
    }
    sync(gd);
  }
};
""" + rebind_js(400)
