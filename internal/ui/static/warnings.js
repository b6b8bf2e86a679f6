// Early warning (预警): draws a warning's evidence as a small line chart
// with ECharts (static/vendor/echarts.min.js) from GET /api/v1/warnings/{id}:
// the rule's value per week (a rate in %, or a count), the baseline's level
// and the recent window shaded. Without JavaScript the page shows the
// same numbers as a table.
(function () {
  'use strict';
  function draw(el) {
    fetch(el.getAttribute('data-src'), {credentials: 'same-origin', headers: {Accept: 'application/json'}}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (w) {
      var ev = w.evidence, rate = el.getAttribute('data-rate') === '1', level = el.getAttribute('data-level') === '1';
      var xs = [], obs = [], base = [], from = null, to = null;
      ev.buckets.forEach(function (b) {
        var x = b.from.slice(5) + '–' + b.to.slice(5);
        xs.push(x);
        if (rate) {
          obs.push(b.trials > 0 ? Math.round(1000 * b.hits / b.trials) / 10 : null);
          base.push(Math.round(1000 * ev.baseline_rate) / 10);
        } else {
          obs.push(b.hits);
          base.push(level ? null : Math.round(100 * ev.baseline_rate * b.days) / 100);
        }
        if (b.window) { if (from === null) { from = x; } to = x; }
      });
      var series = [{name: el.getAttribute('data-observed'), type: 'line', data: obs, connectNulls: true, symbolSize: 6,
        itemStyle: {color: '#c62828'},
        markArea: from === null ? undefined : {silent: true, itemStyle: {color: 'rgba(198,40,40,0.08)'},
          data: [[{name: el.getAttribute('data-window'), xAxis: from}, {xAxis: to}]]}}];
      if (!level) {
        series.push({name: el.getAttribute('data-baseline'), type: 'line', data: base, showSymbol: false,
          lineStyle: {type: 'dashed'}, itemStyle: {color: '#2e7d32'}});
      }
      var c = echarts.init(el, null, {renderer: 'canvas'});
      c.setOption({
        tooltip: {trigger: 'axis'}, legend: {top: 0}, grid: {left: 40, right: 10, top: 30, bottom: 40},
        xAxis: {type: 'category', data: xs, axisLabel: {rotate: 45, fontSize: 10}},
        yAxis: {type: 'value', minInterval: rate ? 0 : 1, axisLabel: {formatter: rate ? '{value}%' : '{value}'}},
        series: series
      });
      window.addEventListener('resize', function () { c.resize(); });
      el.setAttribute('data-rendered', '1');
    }).catch(function (e) { el.textContent = String(e); });
  }
  function start() {
    if (typeof echarts === 'undefined') { return; }
    var el = document.getElementById('wr-chart');
    if (el) { draw(el); }
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
