// trace pages: progressive enhancement only (every page works without it).
// - marks <html class="js"> so "choose" buttons hide when a select submits itself
// - select[data-autosubmit] submits its form on change
// - input[data-filter] narrows a select's options as one types
// - [data-scan] fields get "scan" and "photo" buttons that read a QR code
//   (BarcodeDetector, else jsQR) and fill in the code it carries
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
  // Scanning. A field with data-scan="trace" (a batch label, /q/ URL or
  // code) or data-scan="operator" (an e-ID, /o/ URL or code) gets two
  // buttons: 扫码 reads the camera, 拍照识别 a photo (works everywhere a
  // file can be chosen, including WeChat and desktops without a camera).
  // The phone's own BarcodeDetector decodes where it exists (Android
  // Chrome); elsewhere (iPhone, WeChat, desktop) jsQR does, loaded from
  // /static/vendor/jsQR.js only when first needed. A <select> field takes
  // the scanned code if it is one of its options (the batch to sell).
  var zh = document.documentElement.lang !== 'en';
  function codeFrom(text, kind) {
    var m = text.match(kind === 'operator' ? /\/o\/(\d{18})/ : /\/q\/(\d{20})/);
    if (m) { return m[1]; }
    var d = text.replace(/[\s-]/g, '');
    return /^\d+$/.test(d) ? d : text;
  }
  var jsQRLoading = null;
  function loadJsQR() {
    if (window.jsQR) { return Promise.resolve(window.jsQR); }
    if (!jsQRLoading) {
      jsQRLoading = new Promise(function (resolve, reject) {
        var sc = document.createElement('script');
        sc.src = '/static/vendor/jsQR.js';
        sc.onload = function () { resolve(window.jsQR); };
        sc.onerror = reject;
        document.head.appendChild(sc);
      });
    }
    return jsQRLoading;
  }
  // decoder returns a function from an image source (video, image, canvas)
  // to the text of the first QR code found, or null.
  function decoder() {
    if ('BarcodeDetector' in window) {
      var d = new window.BarcodeDetector({ formats: ['qr_code'] });
      return Promise.resolve(function (src) {
        return d.detect(src).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      });
    }
    return loadJsQR().then(function (jsQR) {
      var canvas = document.createElement('canvas');
      var ctx = canvas.getContext('2d', { willReadFrequently: true });
      return function (src) {
        var w = src.videoWidth || src.naturalWidth || src.width, h = src.videoHeight || src.naturalHeight || src.height;
        if (!w || !h) { return Promise.resolve(null); }
        var scale = Math.min(1, 1024 / Math.max(w, h)); // phone photos are 12 Mpx: decode at ≤ 1024 px
        canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
        ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var r = jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' });
        return Promise.resolve(r ? r.data : null);
      };
    });
  }
  function say(field, text) {
    var note = field.parentNode.querySelector('.tr-scan-note');
    if (!note) {
      note = document.createElement('small');
      note.className = 'meta tr-scan-note';
      note.setAttribute('role', 'status');
      field.parentNode.appendChild(note);
    }
    note.textContent = text;
  }
  function fill(field, text) {
    var code = codeFrom(text, field.dataset.scan);
    if (field.tagName === 'SELECT') {
      var opt = Array.prototype.find.call(field.options, function (o) { return o.value === code; });
      if (!opt) {
        say(field, zh ? '扫到的批次 ' + code + ' 不在可售库存中' : 'the scanned batch ' + code + ' is not in your stock');
        return;
      }
      field.value = code;
    } else {
      field.value = code;
    }
    say(field, (zh ? '已识别：' : 'Read: ') + code);
    field.dispatchEvent(new Event('change', { bubbles: true }));
  }
  function scanCamera(field) {
    var overlay = document.createElement('div');
    overlay.className = 'tr-scanner';
    var video = document.createElement('video');
    video.setAttribute('playsinline', '');
    video.muted = true;
    var close = document.createElement('button');
    close.type = 'button';
    close.textContent = zh ? '关闭' : 'Close';
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
    Promise.all([decoder(), navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } })]).then(function (r) {
      var decode = r[0];
      stream = r[1];
      video.srcObject = stream;
      return video.play().then(function () {
        (function tick() {
          if (done) { return; }
          decode(video).then(function (text) {
            if (text) { stop(); fill(field, text); } else { setTimeout(tick, 120); }
          }).catch(function () { setTimeout(tick, 250); });
        })();
      });
    }).catch(function () {
      stop();
      say(field, zh ? '无法打开摄像头，请用“拍照识别”或直接输入' : 'cannot open the camera: use "Photo" or type the code');
    });
  }
  function scanPhoto(field, file) {
    var img = new Image();
    var reader = new FileReader(); // a data: URL (the pages' CSP allows no blob: images)
    say(field, zh ? '正在识别…' : 'Reading…');
    img.onload = function () {
      decoder().then(function (decode) { return decode(img); }).then(function (text) {
        if (text) { fill(field, text); } else { say(field, zh ? '照片里没有找到二维码，请靠近一些、对准再拍' : 'no QR code found in the photo: come closer and try again'); }
      });
    };
    img.onerror = reader.onerror = function () { say(field, zh ? '无法读取这张图片' : 'cannot read this image'); };
    reader.onload = function () { img.src = reader.result; };
    reader.readAsDataURL(file);
  }
  document.querySelectorAll('[data-scan]').forEach(function (field) {
    var anchor = field;
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      var cam = document.createElement('button');
      cam.type = 'button';
      cam.className = 'small tr-scan';
      cam.textContent = zh ? '扫码' : 'Scan';
      anchor.insertAdjacentElement('afterend', cam);
      anchor = cam;
      cam.addEventListener('click', function () { scanCamera(field); });
    }
    var file = document.createElement('input');
    file.type = 'file';
    file.accept = 'image/*';
    file.setAttribute('capture', 'environment');
    file.hidden = true;
    file.className = 'tr-scan-file';
    var photo = document.createElement('button');
    photo.type = 'button';
    photo.className = 'small tr-scan tr-scan-photo';
    photo.textContent = zh ? '拍照识别' : 'Photo';
    anchor.insertAdjacentElement('afterend', photo);
    photo.insertAdjacentElement('afterend', file);
    photo.addEventListener('click', function () { file.click(); });
    file.addEventListener('change', function () { if (file.files[0]) { scanPhoto(field, file.files[0]); } file.value = ''; });
  });
})();
// a registered market chosen: the typed market fields are not needed
(function () {
  var pick = document.querySelector('select[data-market-choice]');
  var typed = document.querySelector('.market-typed');
  if (!pick || !typed) { return; }
  function apply() { typed.hidden = pick.value !== ''; }
  pick.addEventListener('change', apply);
  apply();
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
