// Activities: the rich-text editor of notes and e-mails, closing the quick-add form, the calendar's
// drag and drop, and copying the calendar feed's address. No inline script (CSP): everything hangs on
// data attributes. Loaded by every page that shows a timeline or the calendar; runs once per page.
(function () {
  "use strict";
  if (window.crmActivities) { return; }
  window.crmActivities = true;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  // --- rich text: a contenteditable area over the textarea it fills (the server sanitizes what arrives) ---
  function richEditors(root) {
    root.querySelectorAll("[data-rich-editor]:not([data-rich-ready])").forEach(function (editor) {
      var source = editor.querySelector("[data-rich-source]");
      var area = editor.querySelector("[data-rich-area]");
      var toolbar = editor.querySelector("[data-rich-toolbar]");
      if (!source || !area || !toolbar) { return; }
      editor.setAttribute("data-rich-ready", "");
      var label = source.id && document.querySelector("label[for='" + source.id + "']");
      if (label) {
        if (!label.id) { label.id = source.id + "-label"; }
        area.setAttribute("aria-labelledby", label.id);
        label.addEventListener("click", function () { area.focus(); });
      }
      source.required = false;  // hidden now; the server still refuses an empty note
      source.hidden = true;
      area.hidden = false;
      toolbar.hidden = false;
      // Always HTML with a tag of ours, so the server never takes formatted text for plain text.
      var sync = function () {
        var html = area.innerHTML.trim();
        source.value = html && !/<(p|div|br|ul|ol|li|h3|h4|blockquote|pre)\b/i.test(html) ? "<p>" + html + "</p>" : html;
      };
      area.addEventListener("input", sync);
      area.addEventListener("blur", sync);
      toolbar.addEventListener("click", function (event) {
        var button = event.target.closest("[data-cmd]");
        if (!button) { return; }
        event.preventDefault();
        area.focus();
        var cmd = button.dataset.cmd;
        if (cmd === "createLink") {
          var url = window.prompt(editor.dataset.linkPrompt || "https://", "https://");
          if (url && /^(https?:|mailto:|tel:)/i.test(url.trim())) { document.execCommand("createLink", false, url.trim()); }
        } else {
          document.execCommand(cmd, false, null);
        }
        sync();
      });
      var form = editor.closest("form");
      if (form) { form.addEventListener("submit", sync, true); form.addEventListener("htmx:configRequest", sync, true); }
    });
  }

  // The quick-add form's close button empties its slot.
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-activity-form-close]");
    if (!close) { return; }
    var slot = close.closest("#activity-form");
    if (slot) { slot.innerHTML = ""; }
  });

  // --- the calendar: drag a meeting to a slot (week) or a day (month) --------------------------------------
  var dragged = null;

  function announce(text, isError) {
    var status = document.querySelector("[data-calendar-status]");
    if (status) { status.textContent = text; }
    var alert = document.querySelector("[data-calendar-alert]");
    if (alert) {
      alert.textContent = text;
      alert.classList.remove("d-none", "alert-success", "alert-danger");
      alert.classList.add(isError ? "alert-danger" : "alert-success");
    }
  }

  function calendars(root) {
    root.querySelectorAll("[data-calendar] [data-draggable]:not([draggable])").forEach(function (item) {
      item.setAttribute("draggable", "true");
      item.setAttribute("tabindex", "0");
      item.setAttribute("aria-keyshortcuts", "Alt+ArrowUp Alt+ArrowDown Alt+ArrowLeft Alt+ArrowRight");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("[data-calendar] [data-draggable]");
    if (!item) { return; }
    dragged = item;
    item.classList.add("calendar-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.activity || "");
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("calendar-dragging"); }
    document.querySelectorAll(".calendar-drop-over").forEach(function (c) { c.classList.remove("calendar-drop-over"); });
    dragged = null;
  });

  document.addEventListener("dragover", function (event) {
    var cell = dragged && event.target.closest && event.target.closest("[data-calendar] [data-drop]");
    if (!cell) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("calendar-drop-over")) {
      document.querySelectorAll(".calendar-drop-over").forEach(function (c) { c.classList.remove("calendar-drop-over"); });
      cell.classList.add("calendar-drop-over");
    }
  });

  function moveTo(item, cell) {
    var origin = item.parentElement;
    var next = item.nextSibling;
    cell.appendChild(item);  // at once; put back if the server says no
    var body = new FormData();
    body.append("start", cell.dataset.drop);
    item.setAttribute("aria-busy", "true");
    var status = document.querySelector("[data-calendar-status]");
    fetch(item.dataset.moveUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, message: response.statusText }; });
    }).then(function (data) {
      item.removeAttribute("aria-busy");
      if (data.ok) {
        var when = item.querySelector("[data-when]");
        if (when && data.clock) { when.textContent = data.clock; }
        item.dataset.moved = "true";
        announce(data.message, false);
      } else {
        origin.insertBefore(item, next);
        announce(data.message || "", true);
      }
      item.focus();
    }).catch(function () {
      item.removeAttribute("aria-busy");
      origin.insertBefore(item, next);
      announce((status && status.dataset.failed) || "", true);
      item.focus();
    });
  }

  document.addEventListener("drop", function (event) {
    var cell = dragged && event.target.closest && event.target.closest("[data-calendar] [data-drop]");
    if (!cell) { return; }
    event.preventDefault();
    cell.classList.remove("calendar-drop-over");
    moveTo(dragged, cell);
  });

  // Without a mouse: Alt + arrow keys move a focused meeting by a slot (up, down) or a day (left, right:
  // towards the previous or the next day, whichever way the page reads).
  function neighbour(cell, key) {
    var row = cell.parentElement;
    var cells = Array.prototype.filter.call(row.children, function (c) { return c.hasAttribute("data-drop"); });
    var index = cells.indexOf(cell);
    var rtl = document.documentElement.dir === "rtl";
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var step = (key === "ArrowRight") !== rtl ? 1 : -1;
      var target = cells[index + step];
      if (!target) {
        var rows = Array.prototype.slice.call(row.parentElement.children);
        var other = rows[rows.indexOf(row) + step];
        var otherCells = other ? Array.prototype.filter.call(other.children, function (c) { return c.hasAttribute("data-drop"); }) : [];
        target = step > 0 ? otherCells[0] : otherCells[otherCells.length - 1];
      }
      return target || null;
    }
    var sibling = key === "ArrowUp" ? row.previousElementSibling : row.nextElementSibling;
    if (!sibling) { return null; }
    var siblingCells = Array.prototype.filter.call(sibling.children, function (c) { return c.hasAttribute("data-drop"); });
    return siblingCells[index] || null;
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].indexOf(event.key) < 0) { return; }
    var item = event.target.closest && event.target.closest("[data-calendar] [data-draggable]");
    if (!item || item.getAttribute("aria-busy")) { return; }
    var cell = item.closest("[data-drop]");
    var target = cell && neighbour(cell, event.key);
    event.preventDefault();
    if (target) { moveTo(item, target); }
  });

  // The person chooser submits on change.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit-select]") && event.target.form) { event.target.form.requestSubmit(); }
  });

  // --- the feed's address: copy, select on focus ------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var input = document.querySelector(button.dataset.copy);
    if (!input) { return; }
    input.select();
    var done = function () { button.textContent = button.dataset.copied || button.textContent; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) { event.target.select(); }
  });

  function enhance(root) {
    richEditors(root);
    calendars(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
