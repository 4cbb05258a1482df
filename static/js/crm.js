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

  function enhance(root) {
    if (window.TomSelect) {
      root.querySelectorAll("select[data-tom-select]:not(.tomselected)").forEach(function (el) {
        new window.TomSelect(el, { plugins: el.multiple ? ["remove_button"] : [] });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    enhance(event.target);
    // Keep keyboard users oriented: focus the first heading or field of a swapped fragment.
    var focusTarget = event.target.querySelector("[data-autofocus]");
    if (focusTarget) { focusTarget.focus(); }
  });
})();
