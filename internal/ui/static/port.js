// port.js: the import jobs' progress (/admin/exchange/port). An element
// with data-poll is fetched again from that address every 1.5 s and
// replaced by the answer's element of the same id (the job page's panel)
// or, in the job list, by the job's status; polling stops when the job has
// ended (the answer carries no data-poll). Without JavaScript the pages
// show a refresh link.
(function () {
  function poll(el) {
    var url = el.getAttribute('data-poll');
    setTimeout(function () {
      fetch(url, { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.getElementById('xp-job');
        if (!next) { return; }
        if (el.id === 'xp-job') {
          el.replaceWith(next);
          if (next.hasAttribute('data-poll')) { poll(next); }
          return;
        }
        // the list: show the job's status (or the end of it, then reload for the counts)
        if (next.hasAttribute('data-poll')) {
          var st = next.querySelector('#xp-job-status progress');
          var mine = el.querySelector('progress');
          if (st && mine) { mine.value = st.value; }
          poll(el);
        } else {
          location.reload();
        }
      }).catch(function () {});
    }, 1500);
  }
  document.querySelectorAll('[data-poll]').forEach(poll);
})();
