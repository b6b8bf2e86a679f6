// Every page: a destructive form or button asks first. A <form> or the
// <button> that submits it may carry data-confirm="question"; pages work
// without JavaScript (the server still validates), this only adds the
// question a person expects before 停用, 驳回, 撤回 and the like.
document.addEventListener('submit', (e) => {
  const q = (e.submitter && e.submitter.dataset.confirm) || e.target.dataset.confirm;
  if (q && !window.confirm(q)) e.preventDefault();
});
