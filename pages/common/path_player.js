// The path player (synth_core/generation/player.py): a slider that walks a latent path.
//
// Each move places a star over the map (one SVG element laid over the plotly chart named
// by data.target, positioned with the chart's own axes) and redraws the decoded sample
// (a canvas for a two-axis sample, a line otherwise). The map is never redrawn and
// nothing is sent to the server, so a move costs the browser a few milliseconds.
//
// After each move the player dispatches "synth-player-moved" on window ({t, index}), and
// the star carries data-t, so tests and benchmarks can tell when a move is on screen.

const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
                 [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
const STAR = "M0,-13 L3.7,-4.7 12.4,-4 5.8,1.9 7.8,11.1 0,6.4 -7.8,11.1 -5.8,1.9 -12.4,-4 -3.7,-4.7Z";
const PANEL_PX = 170;  // the panel's height (path_player.css)
const SVG = "http://www.w3.org/2000/svg";
const LAST_STEP = new Map();  // the step each pair was left at (a rerun mounts it again)

function colour(u, grey) {
  u = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0));
  if (grey) { const g = Math.round(255 * u); return [g, g, g]; }
  const x = u * (VIRIDIS.length - 1), i = Math.min(VIRIDIS.length - 2, Math.floor(x)), f = x - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
}

function plotOf(target) {
  // Streamlit gives a keyed element the class "st-key-<key>".
  return document.querySelector(`.st-key-${CSS.escape(target)} .js-plotly-plot`);
}

class Player {
  constructor(root) {
    this.root = root;
    this.label = root.querySelector(".t-label");
    this.slider = root.querySelector("input");
    this.canvas = root.querySelector("canvas");
    this.lineBox = root.querySelector(".line-box");
    this.line = root.querySelector("svg.line");
    this.ticks = root.querySelector(".ticks");
    this.onInput = () => this.show(Number(this.slider.value));
    this.slider.addEventListener("input", this.onInput);
    this.timer = setInterval(() => this.attach(), 400);  // the chart may be drawn later
  }

  load(data) {
    this.data = data;
    const n = data.t.length;
    this.slider.max = String(n - 1);
    this.ticks.replaceChildren(...data.t.map((name, i) => {
      const tick = document.createElement("span");
      tick.textContent = i % 2 === 0 || n <= 11 ? name : "";
      return tick;
    }));
    const grid = data.shape.length === 2;
    this.canvas.hidden = !grid;
    this.lineBox.hidden = grid;
    if (grid) {
      const [h, w] = data.shape;
      this.canvas.width = w;
      this.canvas.height = h;
      // An image keeps square pixels (up to a width of 2.5 panel heights); other grids
      // (spectrograms, VGGish frames) fill the panel.
      this.canvas.style.width = data.image
        ? `${Math.round(Math.min(2.5 * PANEL_PX, (PANEL_PX * w) / h))}px` : "";
      this.pixels = this.canvas.getContext("2d").createImageData(w, h);
    } else {
      this.drawEnds();
    }
    const step = LAST_STEP.has(data.key) ? LAST_STEP.get(data.key) : data.start;
    this.slider.value = String(Math.min(n - 1, step));
    this.gd = null;
    this.attach();
    this.show(Number(this.slider.value));
  }

  // The map's plotly chart: found again when Streamlit draws a new one.
  attach() {
    if (!this.data) return;
    const gd = plotOf(this.data.target);
    if (gd === this.gd && this.star && this.star.isConnected) return;
    if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis || typeof gd.on !== "function") return;
    const holder = gd.querySelector(".svg-container");
    if (!holder) return;
    this.gd = gd;
    let overlay = holder.querySelector("svg.synth-player-overlay");
    if (!overlay) {
      overlay = document.createElementNS(SVG, "svg");
      overlay.setAttribute("class", "synth-player-overlay");
      overlay.style.cssText = "position:absolute;left:0;top:0;width:100%;height:100%;" +
                              "pointer-events:none;overflow:hidden";
      const star = document.createElementNS(SVG, "path");
      star.setAttribute("d", STAR);
      star.setAttribute("fill", "#000000");
      star.setAttribute("stroke", "#ffffff");
      star.setAttribute("stroke-width", "2");
      star.setAttribute("class", "synth-player-star");
      overlay.appendChild(star);
      holder.appendChild(overlay);
    }
    this.star = overlay.querySelector("path");
    if (!gd.__synthPlayer) {  // plotly keeps its listeners: one set per chart
      gd.__synthPlayer = true;
      const again = () => { const p = gd.__synthPlayerOwner; if (p) p.place(); };
      gd.on("plotly_afterplot", again);
      gd.on("plotly_relayout", again);
    }
    gd.__synthPlayerOwner = this;
    this.place();
  }

  // Puts the star at the current step's map position, with the chart's axes.
  place() {
    if (!this.gd || !this.star || !this.data) return;
    const layout = this.gd._fullLayout, xa = layout && layout.xaxis, ya = layout && layout.yaxis;
    if (!xa || !ya || typeof xa.l2p !== "function") return;
    const k = Number(this.slider.value), [x, y] = this.data.xy[k];
    const px = xa._offset + xa.l2p(x), py = ya._offset + ya.l2p(y);
    const inside = x !== null && y !== null && px >= xa._offset - 1 && px <= xa._offset + xa._length + 1 &&
                   py >= ya._offset - 1 && py <= ya._offset + ya._length + 1;
    if (inside) this.star.setAttribute("transform", `translate(${px.toFixed(1)},${py.toFixed(1)})`);
    this.star.style.display = inside ? "" : "none";
    this.star.dataset.t = this.data.t[k];
    this.star.dataset.x = String(x);
    this.star.dataset.y = String(y);
  }

  drawEnds() {
    const {samples, range} = this.data, n = samples[0].length;
    const points = (row) => row.map((v, i) => {
      if (v === null) return "";  // not finite on the server (JSON null): left out
      const x = n > 1 ? (1000 * i) / (n - 1) : 500;
      const u = (v - range[0]) / (range[1] - range[0]);
      return `${x.toFixed(1)},${(1000 * (1 - Math.min(1.05, Math.max(-0.05, u)))).toFixed(1)}`;
    }).filter(Boolean).join(" ");
    this.linePoints = points;
    const [first, last, current] = this.line.querySelectorAll("polyline");
    first.setAttribute("points", points(samples[0]));
    last.setAttribute("points", points(samples[samples.length - 1]));
    this.current = current;
    this.root.querySelector(".y-hi").textContent = range[1].toPrecision(3);
    this.root.querySelector(".y-lo").textContent = range[0].toPrecision(3);
    this.root.querySelector(".x-n").textContent = `feature (${n})`;
  }

  show(k) {
    const {samples, range, image, t, key, prefix} = this.data, row = samples[k];
    if (this.canvas.hidden) {
      this.current.setAttribute("points", this.linePoints(row));
    } else {
      const px = this.pixels.data, span = range[1] - range[0];
      for (let i = 0; i < row.length; i++) {  // null (not finite) is drawn as the lowest value
        const [r, g, b] = colour(row[i] === null ? NaN : (row[i] - range[0]) / span, image);
        px[4 * i] = r; px[4 * i + 1] = g; px[4 * i + 2] = b; px[4 * i + 3] = 255;
      }
      this.canvas.getContext("2d").putImageData(this.pixels, 0, 0);
    }
    this.label.textContent = prefix + t[k];
    this.slider.style.setProperty("--fill", `${(100 * k) / Math.max(1, t.length - 1)}%`);
    this.root.dataset.t = t[k];
    LAST_STEP.set(key, k);
    this.place();
    window.dispatchEvent(new CustomEvent("synth-player-moved", {detail: {t: t[k], index: k}}));
  }

  destroy() {
    clearInterval(this.timer);
    this.slider.removeEventListener("input", this.onInput);
    if (this.gd && this.gd.__synthPlayerOwner === this) this.gd.__synthPlayerOwner = null;
    if (this.star && this.star.parentNode) this.star.parentNode.remove();
  }
}

export default function (component) {
  const {data, parentElement} = component;
  const root = parentElement.querySelector(".synth-player");
  if (!root || !data) return undefined;
  if (!root.__player) root.__player = new Player(root);
  const player = root.__player;
  // The key names the pair (run, map, rows, path, codes): the same key, the same data.
  if (!player.data || player.data.key !== data.key || player.data.target !== data.target) {
    player.load(data);
  }
  return () => {
    player.destroy();
    root.__player = null;
  };
}
