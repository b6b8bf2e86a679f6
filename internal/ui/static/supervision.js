// Supervision pages: the inspection form's position (when the phone gives
// it) and fields shown only for the answer that needs them. The form works
// without this script: the position is optional and every field is shown.
(function () {
  'use strict';
  var geo = document.querySelector('[data-geo]');
  if (geo && navigator.geolocation) {
    var status = geo.querySelector('[data-geo-status]');
    var set = function (name, v) { geo.querySelector('input[name="' + name + '"]').value = v; };
    if (!geo.querySelector('input[name="lat"]').value) {
      status.textContent = status.dataset.locating || '…';
      navigator.geolocation.getCurrentPosition(function (p) {
        set('lat', p.coords.latitude.toFixed(6));
        set('lng', p.coords.longitude.toFixed(6));
        set('accuracy_m', Math.round(p.coords.accuracy));
        status.textContent = p.coords.latitude.toFixed(5) + ', ' + p.coords.longitude.toFixed(5) + ' ±' + Math.round(p.coords.accuracy) + ' m';
      }, function () { status.textContent = status.dataset.failed || ''; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    } else {
      status.textContent = geo.querySelector('input[name="lat"]').value + ', ' + geo.querySelector('input[name="lng"]').value;
    }
  }
  // <label data-show-when="result=rectify"> shows when that radio is checked
  document.querySelectorAll('[data-show-when]').forEach(function (el) {
    var parts = el.dataset.showWhen.split('=');
    var form = el.closest('form');
    var update = function () {
      var on = form.querySelector('input[name="' + parts[0] + '"]:checked');
      el.hidden = !(on && on.value === parts[1]) && !el.querySelector('.ferr');
    };
    form.addEventListener('change', update);
    update();
  });
})();
// Photos are checked before the form leaves the phone: more than the form
// takes at once, or one over 10 MB, would be refused by the server after a
// long upload, and a refusal of an oversized body cannot give back what was
// typed. The server checks again (type by content, size).
(function () {
  'use strict';
  document.querySelectorAll('input[type=file][data-max-files]').forEach(function (input) {
    var form = input.closest('form');
    var max = parseInt(input.dataset.maxFiles, 10), maxBytes = parseInt(input.dataset.maxBytes, 10);
    form.addEventListener('submit', function (e) {
      var files = input.files || [], msg = '';
      if (files.length > max) { msg = input.dataset.tooMany; }
      for (var i = 0; i < files.length && !msg; i++) {
        if (files[i].size > maxBytes) { msg = input.dataset.tooLarge + ' (' + files[i].name + ')'; }
      }
      input.setCustomValidity(msg);
      if (msg) { e.preventDefault(); input.reportValidity(); }
    });
    input.addEventListener('change', function () { input.setCustomValidity(''); });
  });
})();
