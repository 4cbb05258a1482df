// The CRM's own behaviour. No inline scripts or handlers anywhere (CSP): every
// behaviour hangs on a data attribute.
(function () {
  "use strict";

  // <form data-confirm="Delete?"> and <button data-confirm="..."> ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Bulk selection: <input type=checkbox data-select-all> toggles every [data-bulk-item].
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-select-all]")) {
      document.querySelectorAll("[data-bulk-item]").forEach(function (box) { box.checked = el.checked; });
    }
    if (el.matches("[data-bulk-item], [data-select-all]")) {
      var count = document.querySelectorAll("[data-bulk-item]:checked").length;
      document.querySelectorAll("[data-bulk-count]").forEach(function (n) { n.textContent = count; });
      document.querySelectorAll("[data-bulk-actions] button, [data-bulk-actions] select").forEach(function (b) { b.disabled = count === 0; });
    }
    // Filter forms marked data-autosubmit submit on change (htmx takes over when present).
    var form = el.form;
    if (form && form.hasAttribute("data-autosubmit") && !form.hasAttribute("hx-get")) {
      form.requestSubmit();
    }
  });

  // Column chooser: inside [data-column-chooser], [data-move=up|down] moves its <li> within the
  // <ol data-sortable>; the ticked boxes are submitted in the list's DOM order, so the order of the
  // list is the order of the columns. The moved item's button keeps the focus (moving a node that
  // holds the focus drops it), and [data-move-status] tells screen readers where the item went.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-column-chooser] [data-move]");
    if (!button) { return; }
    event.preventDefault();
    var item = button.closest("li");
    var list = item && item.parentElement;
    if (!list) { return; }
    if (button.dataset.move === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.dataset.move === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
    button.focus();
    announceMove(list, item);
  });

  function announceMove(list, item) {
    var chooser = list.closest("[data-column-chooser]");
    var status = chooser && chooser.querySelector("[data-move-status]");
    if (!status || !status.dataset.template) { return; }
    var items = Array.prototype.slice.call(list.children);
    var label = item.querySelector("label");
    status.textContent = status.dataset.template
      .replace("%(name)s", label ? label.textContent.trim() : "")
      .replace("%(position)s", String(items.indexOf(item) + 1))
      .replace("%(count)s", String(items.length));
  }

  // Drag and drop for the same lists (SortableJS, loaded by the pages that have them).
  function sortables(root) {
    if (!window.Sortable) { return; }
    root.querySelectorAll("[data-column-chooser] [data-sortable]").forEach(function (list) {
      if (list.dataset.sortableReady) { return; }
      list.dataset.sortableReady = "1";
      window.Sortable.create(list, {
        handle: "[data-drag-handle]",
        animation: 150,
        onEnd: function (event) { announceMove(list, event.item); }
      });
    });
  }

  // Tom Select on <select data-tom-select>; with data-lookup (LookupSelect), the options come from that
  // JSON endpoint ({"results": [{value, text}]}) as the user types, already matched by the server.
  function tomSelectOptions(el) {
    var options = { plugins: el.multiple ? ["remove_button"] : [] };
    var url = el.dataset.lookup;
    if (url) {
      options.valueField = "value";
      options.labelField = "text";
      options.searchField = ["text"];
      options.loadThrottle = 250;
      options.shouldLoad = function (query) { return query.trim().length > 0; };
      options.score = function () { return function () { return 1; }; };
      options.load = function (query, callback) {
        var self = this;
        self.clearOptions();
        fetch(url + (url.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(query),
              { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { callback(data.results || []); })
          .catch(function () { callback(); });
      };
    }
    return options;
  }

  function enhance(root) {
    if (window.TomSelect) {
      root.querySelectorAll("select[data-tom-select]:not(.tomselected)").forEach(function (el) {
        new window.TomSelect(el, tomSelectOptions(el));
      });
    }
    sortables(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  // While htmx settles a swap, a new element with an old one's id wears the old one's attributes (its
  // "tomselected" class among them), so afterSwap passes it by: look again once they are its own.
  document.addEventListener("htmx:afterSettle", function (event) {
    enhance(event.target.isConnected ? event.target : document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    // The results fragment brings its own column chooser: give it drag and drop again. (After an
    // outerHTML swap the event's target has left the document, so look from the document too.)
    enhance(event.target);
    sortables(document);
    // Keep keyboard users oriented: focus the first heading or field of a swapped fragment.
    var focusTarget = event.target.querySelector("[data-autofocus]");
    if (focusTarget) { focusTarget.focus(); }
  });
})();
