/* oomsleuth report: sortable tables, j/k to jump between incidents, details opened for print.
   Inlined and allowed by its sha256 in the page's Content-Security-Policy. Optional: the
   report reads the same without it. */
(function () {
  "use strict";
  function value(cell) {
    var v = cell ? cell.getAttribute("data-v") : null;
    if (v !== null && v !== "" && !isNaN(parseFloat(v))) { return parseFloat(v); }
    var text = cell ? cell.textContent.trim() : "";
    if (/^-?[0-9]+(\.[0-9]+)?$/.test(text)) { return parseFloat(text); }
    return text.toLowerCase();
  }
  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : a > b ? 1 : 0; }
    return typeof a === "number" ? -1 : 1;
  }
  function sort(table, col, th) {
    var body = table.tBodies[0];
    var down = th.getAttribute("aria-sort") !== "descending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r, s) {
      var c = compare(value(r.cells[col]), value(s.cells[col]));
      return down ? -c : c;
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", down ? "descending" : "ascending");
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "sort by " + th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () { sort(table, col, th); });
    });
  });
  var sections = document.querySelectorAll("section.incident");
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || (e.key !== "j" && e.key !== "k")) { return; }
    var here = -1;
    Array.prototype.forEach.call(sections, function (s, i) {
      if (s.getBoundingClientRect().top <= 8) { here = i; }
    });
    var next = sections[e.key === "j" ? here + 1 : Math.max(here - 1, 0)];
    if (next) { location.hash = "#" + next.id; }
  });
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
})();
