// Every page: a destructive form or button asks first. A <form> or the
// <button> that submits it may carry data-confirm="question"; pages work
// without JavaScript (the server still validates), this only adds the
// question a person expects before 停用, 驳回, 撤回 and the like.
document.addEventListener('submit', (e) => {
  const q = (e.submitter && e.submitter.dataset.confirm) || e.target.dataset.confirm;
  if (q && !window.confirm(q)) e.preventDefault();
});

// input[data-region]: a region code field gets province → city → county →
// township selects (from /api/v1/regions) that fill it in, and shows the
// chosen name; data-region="county" fills the field from the county level
// down only (a market or a smallholder is in a county), "any" from the
// province. Typing the code still works.
document.querySelectorAll('input[data-region]').forEach((input) => {
  const least = input.dataset.region === 'county' ? 2 : 0;
  const box = document.createElement('span');
  box.className = 'region-picker';
  input.closest('.region-field').after(box);
  const name = input.closest('.region-field').querySelector('.region-name');
  const names = [];
  const level = (parent, depth) => {
    const url = parent ? '/api/v1/regions/' + parent + '/children' : '/api/v1/regions';
    fetch(url).then((r) => r.json()).then((data) => {
      const items = data.items || [];
      if (!items.length) return;
      const sel = document.createElement('select');
      sel.setAttribute('aria-label', (document.documentElement.lang === 'en' ? 'region level ' : '地区第 ') + (depth + 1) + (document.documentElement.lang === 'en' ? '' : ' 级'));
      sel.append(new Option('—', ''));
      items.forEach((it) => sel.append(new Option(it.name, it.code)));
      sel.addEventListener('change', () => {
        while (sel.nextSibling) sel.nextSibling.remove();
        names.length = depth;
        if (!sel.value) return;
        names.push(sel.options[sel.selectedIndex].textContent);
        if (depth >= least) {
          input.value = sel.value;
          if (name) name.textContent = names.join('');
          input.dispatchEvent(new Event('change'));
        }
        if (depth < 3) level(sel.value, depth + 1);
      });
      box.append(sel);
    }).catch(() => {});
  };
  level('', 0);
});
