// Dashboard (分析决策): draws the charts and the map from the JSON API with
// ECharts (static/vendor/echarts.min.js, from npm). Without JavaScript the
// page still shows every figure as a table.
(function () {
  'use strict';
  var en = document.documentElement.lang === 'en';
  function label(o) { return en ? (o.label_en || o.label) : o.label; }
  function get(url) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}}).then(function (r) {
      if (!r.ok) { throw new Error(url + ': ' + r.status); }
      return r.json();
    });
  }
  function done(el) { el.setAttribute('data-rendered', '1'); }

  // chart: one stacked bar per key along the answer's dimension.
  function chart(el) {
    get(el.getAttribute('data-src')).then(function (a) {
      var xs = {};
      a.series.forEach(function (s) { s.values.forEach(function (v) { xs[v.key] = true; }); });
      var axis = Object.keys(xs).sort();
      var c = echarts.init(el, null, {renderer: 'canvas'});
      c.setOption({
        tooltip: {trigger: 'axis'}, legend: {type: 'scroll', top: 0}, grid: {left: 40, right: 10, top: 30, bottom: 30},
        xAxis: {type: 'category', data: axis}, yAxis: {type: 'value', minInterval: 1},
        series: a.series.map(function (s) {
          var m = {};
          s.values.forEach(function (v) { m[v.key] = v.value; });
          return {name: label(s), type: 'bar', stack: 'all', data: axis.map(function (x) { return m[x] || 0; })};
        })
      });
      window.addEventListener('resize', function () { c.resize(); });
      done(el);
    }).catch(function (e) { el.textContent = String(e); });
  }

  // nameMap: the map's feature names → 6-digit codes, so data is keyed by code.
  function nameMap(map) {
    var g = echarts.getMap(map), out = {};
    var geo = g && (g.geoJSON || g.geoJson);
    if (geo && geo.features) {
      geo.features.forEach(function (f) { if (f.id && f.properties) { out[f.properties.name] = String(f.id); } });
    }
    return out;
  }

  function drill(el, code) {
    var u = el.getAttribute('data-drill').replace(/([?&])region=[^&]*/, '$1region=' + code);
    window.location.href = u;
  }

  // cut registers a prefecture's map: the counties of the province's map
  // (data-map-base) whose codes start with data-map-prefix. The features are
  // copied: ECharts decodes a map's compressed coordinates in place.
  function cut(el, name) {
    var base = el.getAttribute('data-map-base'), prefix = el.getAttribute('data-map-prefix');
    if (!base || !prefix || echarts.getMap(name)) { return; }
    var g = echarts.getMap(base), geo = g && (g.geoJSON || g.geoJson);
    if (!geo || !geo.features) { return; }
    var fs = geo.features.filter(function (f) { return String(f.id).indexOf(prefix) === 0; });
    if (fs.length) {
      echarts.registerMap(name, JSON.parse(JSON.stringify({type: 'FeatureCollection', UTF8Encoding: geo.UTF8Encoding, features: fs})));
    }
  }

  // map: a choropleth of the child regions (or of every county of a
  // province) when there are shapes, else bars; clicking a region opens its
  // dashboard.
  function drawMap(el) {
    get(el.getAttribute('data-src')).then(function (a) {
      var name = el.getAttribute('data-map'), c = echarts.init(el), names = {};
      if (name) { cut(el, name); }
      var max = 1;
      a.values.forEach(function (v) { names[v.key] = v.label; if (v.value > max) { max = v.value; } });
      if (name && echarts.getMap(name)) {
        c.setOption({
          tooltip: {trigger: 'item', formatter: function (p) { return (names[p.name] || p.name) + ': ' + (p.value || 0); }},
          visualMap: {min: 0, max: max, left: 0, bottom: 0, calculable: true, inRange: {color: ['#eef6ee', '#2e7d32']}},
          series: [{type: 'map', map: name, nameMap: nameMap(name), roam: false,
            data: a.values.map(function (v) { return {name: v.key, value: v.value}; })}]
        });
      } else {
        c.setOption({
          tooltip: {trigger: 'axis'}, grid: {left: 90, right: 10, top: 10, bottom: 20},
          yAxis: {type: 'category', data: a.values.map(function (v) { return v.label; })}, xAxis: {type: 'value', minInterval: 1},
          series: [{type: 'bar', data: a.values.map(function (v) { return {value: v.value, code: v.key}; }), itemStyle: {color: '#2e7d32'}}]
        });
      }
      c.on('click', function (p) {
        var code = (p.data && p.data.code) || p.name;
        if (/^\d{6}$/.test(code) && code !== a.region) { drill(el, code); }
      });
      window.addEventListener('resize', function () { c.resize(); });
      done(el);
    }).catch(function (e) { el.textContent = String(e); });
  }

  function start() {
    if (typeof echarts === 'undefined') { return; }
    var m = document.getElementById('st-map');
    if (m) { drawMap(m); }
    Array.prototype.forEach.call(document.querySelectorAll('.st-chart[data-src]'), chart);
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
