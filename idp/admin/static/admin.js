// Accounts table: a "select this page" checkbox (the form works without it).
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("page-entiere");
  if (!all) { return; }
  all.hidden = false;
  all.parentElement.hidden = false;
  var boxes = document.querySelectorAll("table.accounts input[name='uid']");
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
});
