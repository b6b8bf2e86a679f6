// Registration form helpers (the form works without them):
// - suggest the kind from the credit code prefix (91 enterprise, 92 individual, 93 cooperative);
// - pick the region with province → city → county → township selects;
// - fill latitude/longitude from the phone's location.
(function () {
  var credit = document.getElementById('credit_code');
  var kind = document.getElementById('kind');
  if (credit && kind) {
    credit.addEventListener('input', function () {
      var p = credit.value.replace(/\s/g, '').toUpperCase().slice(0, 2);
      var k = { '91': 'enterprise', '92': 'individual', '93': 'cooperative' }[p];
      if (k && !kind.value) kind.value = k;
    });
  }
  var input = document.getElementById('region_code');
  var picker = document.getElementById('region_picker');
  var label = document.getElementById('region_name');
  if (input && picker && window.fetch) {
    var level = function (parent, depth) {
      var url = parent ? '/api/v1/regions/' + parent + '/children' : '/api/v1/regions';
      fetch(url).then(function (r) { return r.json(); }).then(function (data) {
        var items = data.items || [];
        if (!items.length) return;
        var sel = document.createElement('select');
        sel.setAttribute('aria-label', 'region level ' + depth);
        var opt = document.createElement('option');
        opt.value = ''; opt.textContent = '—';
        sel.appendChild(opt);
        items.forEach(function (it) {
          var o = document.createElement('option');
          o.value = it.code; o.textContent = it.name;
          sel.appendChild(o);
        });
        sel.addEventListener('change', function () {
          while (sel.nextSibling) picker.removeChild(sel.nextSibling);
          if (!sel.value) return;
          if (depth >= 2) { input.value = sel.value; if (label) label.textContent = sel.options[sel.selectedIndex].textContent + ' ' + sel.value; }
          if (depth < 3) level(sel.value, depth + 1);
        });
        picker.appendChild(sel);
      }).catch(function () {});
    };
    level('', 0);
  }
  var btn = document.getElementById('locate');
  if (btn && navigator.geolocation) {
    btn.hidden = false;
    btn.addEventListener('click', function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById('lat').value = pos.coords.latitude.toFixed(6);
        document.getElementById('lng').value = pos.coords.longitude.toFixed(6);
      });
    });
  }
})();
