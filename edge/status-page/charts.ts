/**
 * The status page's charts, as browser script: inline SVG built from one /status window (dense
 * arrays, oldest bucket first). Every bar and point carries its bucket and value as data
 * attributes, so what the page shows can be read back (and tested) from the DOM.
 */
export const CHARTS_SCRIPT = String.raw`
const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART = { w: 420, h: 120, left: 36, right: 4, top: 8, bottom: 16 };

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const key in attrs) node.setAttribute(key, String(attrs[key]));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const step = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

function clock(ms, withDate) {
  const d = new Date(ms);
  const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return withDate ? d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + t : t;
}

/** The frame every chart shares: axes, y labels (0 and max), x labels (start, middle, end). */
function chartFrame(kind, server, win, range, max) {
  const label = (kind === 'traffic' ? 'Calls and errors' : 'Latency p50 and p95') + ' of ' + server + ' over the last ' + range;
  const svg = svgEl('svg', { class: 'chart', viewBox: '0 0 ' + CHART.w + ' ' + CHART.h, role: 'img', 'aria-label': label, 'data-chart': kind, 'data-server': server, 'data-range': range, 'data-max': max });
  const x0 = CHART.left, y0 = CHART.h - CHART.bottom, x1 = CHART.w - CHART.right;
  svg.append(svgEl('line', { class: 'axis', x1: x0, y1: y0, x2: x1, y2: y0 }), svgEl('line', { class: 'axis', x1: x0, y1: CHART.top, x2: x0, y2: y0 }));
  svg.append(svgEl('text', { x: x0 - 4, y: CHART.top + 8, 'text-anchor': 'end' }, String(max)), svgEl('text', { x: x0 - 4, y: y0, 'text-anchor': 'end' }, '0'));
  const start = Date.parse(win.start), end = start + win.bucketMs * win.calls.length;
  svg.append(
    svgEl('text', { x: x0, y: CHART.h - 4 }, clock(start, range === 'day')),
    svgEl('text', { x: (x0 + x1) / 2, y: CHART.h - 4, 'text-anchor': 'middle' }, clock((start + end) / 2, false)),
    svgEl('text', { x: x1, y: CHART.h - 4, 'text-anchor': 'end' }, 'now'),
  );
  return svg;
}

function slot(win, i) {
  const width = (CHART.w - CHART.left - CHART.right) / win.calls.length;
  return { x: CHART.left + i * width, width: width, bucket: new Date(Date.parse(win.start) + i * win.bucketMs).toISOString() };
}

/** Calls per bucket (bars), with the errors among them drawn over them from the bottom. */
function trafficChart(server, win, range) {
  const max = niceMax(Math.max.apply(null, win.calls));
  const svg = chartFrame('traffic', server, win, range, max);
  const scale = (CHART.h - CHART.top - CHART.bottom) / max, y0 = CHART.h - CHART.bottom;
  const per = win.bucketMs >= 3600000 ? win.bucketMs / 3600000 + ' h' : win.bucketMs / 60000 + ' min';
  win.calls.forEach(function (calls, i) {
    if (!calls) return;
    const s = slot(win, i), errors = win.errors[i], gap = s.width > 3 ? 1 : 0;
    const bar = svgEl('rect', { class: 'calls', x: s.x + gap / 2, width: s.width - gap, y: y0 - calls * scale, height: calls * scale, 'data-bucket': s.bucket, 'data-calls': calls, 'data-errors': errors });
    bar.append(svgEl('title', {}, clock(Date.parse(s.bucket), range === 'day') + ': ' + calls + ' call(s), ' + errors + ' error(s) in ' + per));
    svg.append(bar);
    if (errors) svg.append(svgEl('rect', { class: 'errors', x: s.x + gap / 2, width: s.width - gap, y: y0 - errors * scale, height: errors * scale, 'data-bucket': s.bucket, 'data-errors': errors }));
  });
  return svg;
}

/** p50 and p95 latency per bucket: a line each, and a point per bucket that had calls. */
function latencyChart(server, win, range) {
  const values = win.p95.concat(win.p50).filter(function (v) { return v !== null; });
  const max = niceMax(Math.max.apply(null, values.concat([0])));
  const svg = chartFrame('latency', server, win, range, max);
  const scale = (CHART.h - CHART.top - CHART.bottom) / max, y0 = CHART.h - CHART.bottom;
  for (const q of ['p95', 'p50']) {
    const points = [];
    win[q].forEach(function (ms, i) {
      if (ms === null) return;
      const s = slot(win, i), x = s.x + s.width / 2, y = y0 - ms * scale;
      points.push(x.toFixed(1) + ',' + y.toFixed(1));
      const dot = svgEl('circle', { class: q, cx: x.toFixed(1), cy: y.toFixed(1), r: 2, 'data-bucket': s.bucket, 'data-ms': ms });
      dot.append(svgEl('title', {}, clock(Date.parse(s.bucket), range === 'day') + ' ' + q + ': ' + ms + ' ms'));
      svg.append(dot);
    });
    if (points.length > 1) svg.insertBefore(svgEl('polyline', { class: q, points: points.join(' ') }), svg.querySelector('circle'));
  }
  return svg;
}
`;
