// trace pages: progressive enhancement only (every page works without it).
// - marks <html class="js"> so "choose" buttons hide when a select submits itself
// - select[data-autosubmit] submits its form on change
// - input[data-filter] narrows a select's options as one types
// - input[data-scan] gets a "scan" button that reads a QR code with the
//   phone camera (BarcodeDetector) and fills in the code it carries
(function () {
  document.documentElement.classList.add('js');
  document.querySelectorAll('select[data-autosubmit]').forEach(function (s) {
    s.addEventListener('change', function () { s.form.submit(); });
  });
  // input[data-filter="#select"]: typing narrows the select's options (the
  // product choice of the batch form: 43 products and more)
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var select = document.querySelector(input.dataset.filter);
    if (!select) { return; }
    input.hidden = false;
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase();
      var first = null;
      select.querySelectorAll('option').forEach(function (o) {
        var show = !o.value || q === '' || o.textContent.toLowerCase().indexOf(q) >= 0 || o.value.indexOf(q) >= 0;
        o.hidden = !show;
        if (show && o.value && !first) { first = o; }
      });
      select.querySelectorAll('optgroup').forEach(function (g) {
        g.hidden = !g.querySelector('option:not([hidden])');
      });
      if (first && q !== '' && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
        select.value = first.value;
      }
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { e.preventDefault(); select.form.submit(); }
    });
  });
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) {
    return;
  }
  function codeFrom(text, kind) {
    var m = text.match(kind === 'operator' ? /\/o\/(\d{18})/ : /\/q\/(\d{20})/);
    if (m) { return m[1]; }
    var d = text.replace(/[\s-]/g, '');
    return /^\d+$/.test(d) ? d : text;
  }
  document.querySelectorAll('input[data-scan]').forEach(function (input) {
    var btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'small tr-scan';
    btn.textContent = document.documentElement.lang === 'en' ? 'Scan' : '扫码';
    input.insertAdjacentElement('afterend', btn);
    btn.addEventListener('click', function () {
      var detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      var overlay = document.createElement('div');
      overlay.className = 'tr-scanner';
      var video = document.createElement('video');
      video.setAttribute('playsinline', '');
      var close = document.createElement('button');
      close.type = 'button';
      close.textContent = document.documentElement.lang === 'en' ? 'Close' : '关闭';
      overlay.appendChild(video);
      overlay.appendChild(close);
      document.body.appendChild(overlay);
      var stream = null, done = false;
      function stop() {
        done = true;
        if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
        overlay.remove();
      }
      close.addEventListener('click', stop);
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (s) {
        stream = s;
        video.srcObject = s;
        return video.play();
      }).then(function tick() {
        if (done) { return; }
        detector.detect(video).then(function (codes) {
          if (codes.length > 0) {
            input.value = codeFrom(codes[0].rawValue, input.dataset.scan);
            stop();
            input.dispatchEvent(new Event('change'));
          } else {
            requestAnimationFrame(tick);
          }
        }).catch(function () { requestAnimationFrame(tick); });
      }).catch(stop);
    });
  });
})();
// sell form: show only the buyer or the market part, as chosen
(function () {
  var radios = document.querySelectorAll('input[name=to]');
  if (radios.length === 0) { return; }
  function apply() {
    var to = document.querySelector('input[name=to]:checked');
    var market = to && to.value === 'market';
    document.querySelectorAll('.tr-to-operator').forEach(function (f) { f.hidden = market; });
    document.querySelectorAll('.tr-to-market').forEach(function (f) { f.hidden = !market; });
  }
  radios.forEach(function (r) { r.addEventListener('change', apply); });
  apply();
})();
