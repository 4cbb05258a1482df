// The opportunity board: cards dragged between stage columns (SortableJS). A drop posts the move through htmx;
// the server answers with the whole board, so a refused move puts the card back where it was, with the
// reason, and a stage that needs fields shows its questions. Each card's "Move to" form does the same from
// the keyboard (and without JavaScript).
(function () {
  "use strict";

  function filterValues() {
    var form = document.getElementById("board-filters");
    var values = {};
    if (!form) { return values; }
    new FormData(form).forEach(function (value, key) { if (value !== "") { values[key] = value; } });
    return values;
  }

  function init() {
    if (!window.Sortable || !window.htmx) { return; }
    document.querySelectorAll("[data-board-cards]").forEach(function (list) {
      if (list.dataset.sortableReady) { return; }
      list.dataset.sortableReady = "1";
      window.Sortable.create(list, {
        group: "opportunity-board",
        animation: 150,
        filter: "select, button, input, label",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) { return; }
          var values = filterValues();
          values.stage = event.to.dataset.stage;
          document.getElementById("board").setAttribute("aria-busy", "true");
          window.htmx.ajax("POST", event.item.dataset.moveUrl, { target: "#board", swap: "outerHTML", values: values });
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
