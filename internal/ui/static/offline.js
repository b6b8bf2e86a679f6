// Offline-first batch recording (operator pages; every page works without it).
//
// A farm's network drops; recording the harvest must not. When the phone is
// offline, the batch form is not sent but kept in this browser (IndexedDB
// "agtrace" / "outbox"), shown as 待同步, and sent — in the order recorded —
// as soon as the network is back, each with its own Idempotency-Key, so a
// retried send is never recorded twice. Trace codes come from the server:
// an offline batch gets its code when it is synced (labels are printed
// then). A batch the server refuses stays in the list with the reason, to
// edit (it goes back into the form) or discard — never silently dropped.
// The service worker (/sw.js) keeps the operator pages and their files so
// they open without a network.
(function () {
  var zh = document.documentElement.lang !== 'en';
  var T = function (a, b) { return zh ? a : b; };
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('/sw.js').catch(function () {});
  }
  if (!('indexedDB' in window)) { return; }

  function db() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open('agtrace', 1);
      req.onupgradeneeded = function () { req.result.createObjectStore('outbox', { keyPath: 'key' }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function store(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction('outbox', mode);
        var out = fn(tx.objectStore('outbox'));
        tx.oncomplete = function () { resolve(out && out.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function all() {
    return store('readonly', function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.at - b.at; });
    });
  }
  function put(item) { return store('readwrite', function (s) { s.put(item); }); }
  function drop(key) { return store('readwrite', function (s) { s.delete(key); }); }

  // a UUID without crypto.randomUUID (missing outside secure contexts)
  function uuid() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // the batch form's fields as the API's NewBatch
  function batchOf(form) {
    var f = new FormData(form);
    var body = { product_code: f.get('product_code'), quantity: Number(f.get('quantity')), unit: f.get('unit'),
      produced_at: f.get('produced_at'), origin: f.get('origin') || '', attributes: {}, inputs: [], operations: [] };
    f.forEach(function (v, k) {
      if (k.indexOf('attr.') === 0 && String(v).trim() !== '') { body.attributes[k.slice(5)] = String(v).trim(); }
    });
    var names = f.getAll('input_name');
    names.forEach(function (n, i) {
      if (!String(n).trim()) { return; }
      var days = parseInt(f.getAll('input_days')[i], 10);
      body.inputs.push({ kind: f.getAll('input_kind')[i], name: String(n).trim(), reg_no: f.getAll('input_reg')[i] || '',
        dose: f.getAll('input_dose')[i] || '', used_at: f.getAll('input_date')[i] || '', interval_days: isNaN(days) ? 0 : days });
    });
    if (String(f.get('operation_kind') || '').trim()) {
      body.operations.push({ kind: f.get('operation_kind'), description: f.get('operation_desc') || '', at: f.get('operation_date') || '' });
    }
    if (f.get('override_reason')) { body.override_reason = f.get('override_reason'); }
    return body;
  }
  // the sell form's fields as the API's SaleInput (the buyer's code is
  // checked by the server when it is sent: offline nobody can show the
  // buyer's name to confirm)
  function saleOf(form) {
    var f = new FormData(form);
    var body = { from_code: f.get('from_code'), quantity: Number(f.get('quantity')) };
    if (f.get('shipped_at')) { body.shipped_at = f.get('shipped_at'); }
    if (f.get('to') === 'market') {
      var id = parseInt(f.get('market_id'), 10);
      body.market = id > 0 ? { id: id } : { name: f.get('market_name'), kind: f.get('market_kind'), region_code: f.get('market_region') };
    } else {
      body.buyer_operator_code = String(f.get('buyer_operator_code') || '').replace(/\s/g, '');
    }
    if (!body.shipped_at) { body.shipped_at = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10); } // the day it was sold (China time), not the day it syncs
    return body;
  }
  // what a queued record is called in the list
  function labelOf(form, kind) {
    if (kind === 'sale') {
      var sel = form.querySelector('#from_code');
      var opt = sel && sel.options[sel.selectedIndex];
      return T('销售：', 'Sale: ') + (opt ? opt.textContent.split(' · ')[0] : '');
    }
    return (form.querySelector('.tr-chosen strong') || {}).textContent || '';
  }
  var endpoints = { batch: '/api/v1/batches', sale: '/api/v1/transfers' };

  function fieldsOf(form) {
    var out = [];
    new FormData(form).forEach(function (v, k) { if (typeof v === 'string') { out.push([k, v]); } });
    return out;
  }

  var box = document.getElementById('outbox');
  function render() {
    if (!box) { return Promise.resolve(); }
    return all().then(function (items) {
      box.hidden = items.length === 0 && !box.dataset.note;
      var list = box.querySelector('ul');
      list.textContent = '';
      box.querySelector('.outbox-count').textContent = String(items.length);
      items.forEach(function (it) {
        var li = document.createElement('li');
        li.className = 'tr-card outbox-item ' + it.status;
        li.dataset.key = it.key;
        var main = document.createElement('div');
        main.className = 'tr-card-main';
        main.textContent = (it.label || it.body.product_code || '') + ' · ' + it.body.quantity + ' · ' + (it.body.produced_at || it.body.shipped_at || '');
        var st = document.createElement('span');
        st.className = 'badge ' + (it.status === 'refused' ? 'rejected' : 'pending');
        st.textContent = it.status === 'refused' ? T('未能上传', 'refused') : T('待同步', 'waiting to sync');
        main.appendChild(document.createTextNode(' '));
        main.appendChild(st);
        li.appendChild(main);
        if (it.status === 'refused') {
          var why = document.createElement('p');
          why.className = 'ferr outbox-reason';
          why.textContent = it.error || '';
          li.appendChild(why);
          var edit = document.createElement('button');
          edit.type = 'button'; edit.className = 'small'; edit.textContent = T('修改后重新提交', 'Edit and resend');
          edit.addEventListener('click', function () {
            sessionStorage.setItem('agtrace.edit', JSON.stringify(it.fields));
            drop(it.key).then(function () {
              location.href = it.kind === 'sale' ? '/sell?from=' + encodeURIComponent(it.body.from_code) : '/batches/new?product_code=' + encodeURIComponent(it.body.product_code);
            });
          });
          var discard = document.createElement('button');
          discard.type = 'button'; discard.className = 'small danger'; discard.textContent = T('丢弃', 'Discard');
          discard.addEventListener('click', function () {
            if (window.confirm(T('确定丢弃这条未上传的记录吗？', 'Discard this record that was not uploaded?'))) { drop(it.key).then(render); }
          });
          li.appendChild(edit); li.appendChild(discard);
        }
        list.appendChild(li);
      });
    });
  }
  function say(text) {
    if (!box) { return; }
    var p = box.querySelector('.outbox-note');
    p.textContent = text;
    box.dataset.note = text ? '1' : '';
    box.hidden = false;
  }

  // send the waiting records in order; stop at the first network failure
  var syncing = false;
  function sync() {
    if (syncing || !navigator.onLine) { return Promise.resolve(); }
    syncing = true;
    return all().then(function (items) {
      var chain = Promise.resolve(true);
      items.filter(function (it) { return it.status === 'pending'; }).forEach(function (it) {
        chain = chain.then(function (go) {
          if (!go) { return false; }
          return fetch(endpoints[it.kind] || endpoints.batch, { method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'Idempotency-Key': it.key }, body: JSON.stringify(it.body) })
            .then(function (r) {
              return r.json().catch(function () { return {}; }).then(function (j) {
                if (r.status === 201 || (r.ok && j.trace_code)) {
                  return drop(it.key).then(function () {
                    say(T('已同步：', 'Synced: ') + (it.label || '') + ' → ' + T('追溯码 ', 'trace code ') + j.trace_code);
                    var a = document.createElement('a');
                    a.href = '/batches/' + j.trace_code; a.className = 'outbox-synced'; a.textContent = T(' 打印标签', ' Print labels');
                    box.querySelector('.outbox-note').appendChild(a);
                    return true;
                  });
                }
                if (r.status === 409 || r.status === 401 || r.status >= 500) { return false; } // try again later
                it.status = 'refused';
                it.error = (zh ? j.detail_zh : j.detail) || j.title || ('HTTP ' + r.status);
                (j.errors || []).forEach(function (e) { it.error += '；' + (zh ? e.message_zh : e.message); });
                return put(it).then(function () { return true; });
              });
            }, function () { return false; });
        });
      });
      return chain;
    }).then(render, render).then(function () { syncing = false; }, function () { syncing = false; });
  }

  // a record to edit comes back into its form
  function refill(form) {
    var edit = sessionStorage.getItem('agtrace.edit');
    if (!edit) { return; }
    sessionStorage.removeItem('agtrace.edit');
    try {
      JSON.parse(edit).forEach(function (kv) {
        var els = form.querySelectorAll('[name="' + kv[0] + '"]');
        Array.prototype.forEach.call(els, function (el) {
          if (el.type === 'radio') { el.checked = el.value === kv[1]; } else if (el.type !== 'hidden' && els.length === 1) { el.value = kv[1]; }
        });
      });
    } catch (e) {}
  }
  // offline, a form is kept instead of sent (online: the page's own post)
  function queueOffline(form, kind, bodyOf) {
    refill(form);
    form.addEventListener('submit', function (e) {
      if (navigator.onLine) { return; }
      e.preventDefault();
      var body = bodyOf(form);
      if (!/^\d+(\.\d{1,3})?$/.test(String(new FormData(form).get('quantity')).trim()) || !(body.quantity > 0)) {
        say(T('数量请填写数字，如 200 或 12.5', 'The quantity must be a number, such as 200 or 12.5'));
        return;
      }
      put({ key: uuid(), at: Date.now(), kind: kind, status: 'pending', label: labelOf(form, kind), body: body, fields: fieldsOf(form) }).then(function () {
        form.reset();
        say(kind === 'sale'
          ? T('销售已保存在本机，联网后自动上传；买方码到时由平台核对。', 'The sale is saved on this phone and uploads when the network is back; the buyer\'s code is checked then.')
          : T('已保存在本机，联网后自动上传并获得追溯码。', 'Saved on this phone; it uploads and gets its trace code when the network is back.'));
        return render();
      });
    });
  }
  var batchForm = document.getElementById('batch-form');
  if (batchForm) { queueOffline(batchForm, 'batch', batchOf); }
  var sellForm = document.getElementById('sell-form');
  if (sellForm) { queueOffline(sellForm, 'sale', saleOf); }
  function showState() {
    var off = document.getElementById('offline-note');
    if (off) { off.hidden = navigator.onLine; }
  }
  window.addEventListener('online', function () { showState(); sync(); });
  window.addEventListener('offline', showState);
  showState();
  render().then(sync);
})();
