// The AND/OR condition builder (crm/core/forms.py ConditionBuilder): turns the JSON textarea into groups of
// field / operator / value rows and writes the JSON back on every change. Without JavaScript the textarea
// itself is the editor. No inline scripts (CSP): it finds its widgets by data attributes.
(function () {
  "use strict";

  var uid = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function labelled(control, text) {
    var id = "cb-" + (++uid);
    control.id = id;
    return [el("label", { "for": id, "class": "visually-hidden", text: text }), control];
  }

  function Builder(root) {
    this.root = root;
    this.input = root.querySelector("[data-condition-input]");
    this.tree = root.querySelector("[data-condition-tree]");
    var meta = document.getElementById(root.dataset.for + "-meta");
    this.meta = JSON.parse(meta.textContent);
    this.fields = {};
    var self = this;
    this.meta.fields.forEach(function (f) { self.fields[f.name] = f; });
    var value;
    try { value = JSON.parse(this.input.value || "{}"); } catch (e) { return; }  // leave the textarea to the user
    this.state = this.normalize(value);
    this.input.hidden = true;
    var help = root.querySelector(".form-text");
    if (help) { help.hidden = true; }
    this.render();
  }

  Builder.prototype.normalize = function (node) {
    var self = this;
    if (Array.isArray(node)) { return { all: node.map(function (n) { return self.normalize(n); }) }; }
    if (!node || typeof node !== "object") { return { all: [] }; }
    if (node.all || node.any) {
      var key = node.all ? "all" : "any";
      var result = {};
      result[key] = node[key].map(function (n) { return (n.all || n.any) ? self.normalize(n) : n; });
      return result;
    }
    return node.field ? { all: [node] } : { all: [] };
  };

  Builder.prototype.save = function () {
    this.input.value = JSON.stringify(this.state);
    this.input.dispatchEvent(new Event("change", { bubbles: true }));
  };

  Builder.prototype.render = function () {
    this.tree.textContent = "";
    this.tree.appendChild(this.group(this.state, null, 0));
  };

  Builder.prototype.group = function (node, parent, depth) {
    var self = this, text = this.meta.text;
    var key = node.any ? "any" : "all";
    var items = node[key];
    var box = el("fieldset", { "class": "border rounded p-2 mb-2" + (depth ? " ms-3" : "") });
    var match = el("select", { "class": "form-select form-select-sm d-inline-block w-auto" });
    [["all", text.all], ["any", text.any]].forEach(function (pair) {
      var option = el("option", { value: pair[0], text: pair[1] });
      if (pair[0] === key) { option.selected = true; }
      match.appendChild(option);
    });
    match.addEventListener("change", function () {
      var moved = node[key];
      delete node[key];
      node[match.value] = moved;
      self.save();
      self.render();
    });
    var legend = el("legend", { "class": "fs-6 mb-1 d-flex gap-2 align-items-center" },
      [el("span", { text: text.match })].concat(labelled(match, text.match)));
    box.appendChild(legend);
    if (!items.length && !depth) { box.appendChild(el("p", { "class": "small text-muted mb-1", text: text.none })); }
    items.forEach(function (child, index) {
      if (child.all || child.any) {
        box.appendChild(self.group(child, items, depth + 1));
      } else {
        box.appendChild(self.row(child, items, index));
      }
    });
    var add = el("button", { type: "button", "class": "btn btn-outline-secondary btn-sm me-1", text: text.add });
    add.addEventListener("click", function () {
      items.push({ field: "", op: "", value: "" });
      self.save();
      self.render();
      var rows = self.tree.querySelectorAll("[data-condition-row]");
      if (rows.length) { rows[rows.length - 1].querySelector("select").focus(); }
    });
    var actions = el("div", { "class": "mt-1" }, [add]);
    if (depth < 2) {
      var addGroup = el("button", { type: "button", "class": "btn btn-outline-secondary btn-sm me-1", text: text.addGroup });
      addGroup.addEventListener("click", function () {
        items.push({ any: [{ field: "", op: "", value: "" }] });
        self.save();
        self.render();
      });
      actions.appendChild(addGroup);
    }
    if (parent) {
      var remove = el("button", { type: "button", "class": "btn btn-link btn-sm text-danger", text: text.remove });
      remove.addEventListener("click", function () {
        parent.splice(parent.indexOf(node), 1);
        self.save();
        self.render();
      });
      actions.appendChild(remove);
    }
    box.appendChild(actions);
    return box;
  };

  Builder.prototype.row = function (leaf, items, index) {
    var self = this, text = this.meta.text, meta = this.meta;
    var row = el("div", { "class": "d-flex flex-wrap gap-1 align-items-center mb-1", "data-condition-row": "" });
    var field = el("select", { "class": "form-select form-select-sm w-auto" });
    field.appendChild(el("option", { value: "", text: text.choose }));
    meta.fields.forEach(function (f) {
      var option = el("option", { value: f.name, text: f.label });
      if (f.name === leaf.field) { option.selected = true; }
      field.appendChild(option);
    });
    var spec = this.fields[leaf.field];
    var op = el("select", { "class": "form-select form-select-sm w-auto" });
    op.appendChild(el("option", { value: "", text: text.choose }));
    var operators = spec ? spec.operators.concat(meta.changeOperators) : [];
    operators.forEach(function (name) {
      var option = el("option", { value: name, text: meta.operators[name] || name });
      if (name === leaf.op) { option.selected = true; }
      op.appendChild(option);
    });
    field.addEventListener("change", function () {
      leaf.field = field.value;
      leaf.op = "";
      leaf.value = "";
      self.save();
      self.render();
    });
    op.addEventListener("change", function () {
      leaf.op = op.value;
      self.save();
      self.render();
    });
    labelled(field, text.field).concat(labelled(op, text.operator)).forEach(function (p) { row.appendChild(p); });
    var noValue = ["is_empty", "is_not_empty", "changed"];
    if (spec && leaf.op && noValue.indexOf(leaf.op) < 0) {
      var value;
      var multiple = leaf.op === "in" || leaf.op === "not_in";
      if (spec.choices.length && !multiple) {
        value = el("select", { "class": "form-select form-select-sm w-auto" });
        value.appendChild(el("option", { value: "", text: text.choose }));
        spec.choices.forEach(function (pair) {
          var option = el("option", { value: pair[0], text: pair[1] });
          if (String(pair[0]) === String(leaf.value)) { option.selected = true; }
          value.appendChild(option);
        });
      } else if (spec.kind === "boolean") {
        value = el("select", { "class": "form-select form-select-sm w-auto" });
        [["true", "✓"], ["false", "✗"]].forEach(function (pair) {
          var option = el("option", { value: pair[0], text: pair[1] });
          if (String(leaf.value) === pair[0]) { option.selected = true; }
          value.appendChild(option);
        });
        if (!leaf.value) { leaf.value = "true"; }
      } else {
        var type = { number: "number", date: "date", datetime: "date" }[spec.kind] || "text";
        value = el("input", { type: multiple ? "text" : type, "class": "form-control form-control-sm w-auto",
                              value: Array.isArray(leaf.value) ? leaf.value.join(", ") : (leaf.value || "") });
        if (multiple) { value.setAttribute("placeholder", text.listHint); }
        if (type === "number") { value.setAttribute("step", "any"); }
      }
      value.addEventListener("change", function () { leaf.value = value.value; self.save(); });
      value.addEventListener("input", function () { leaf.value = value.value; self.save(); });
      labelled(value, text.value).forEach(function (p) { row.appendChild(p); });
    }
    var remove = el("button", { type: "button", "class": "btn btn-link btn-sm text-danger", text: text.remove });
    remove.addEventListener("click", function () {
      items.splice(index, 1);
      self.save();
      self.render();
    });
    row.appendChild(remove);
    return row;
  };

  function start(root) {
    (root || document).querySelectorAll("[data-condition-builder]:not([data-ready])").forEach(function (node) {
      node.setAttribute("data-ready", "");
      new Builder(node);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { start(document); });
  document.addEventListener("htmx:afterSwap", function (event) { start(event.target); });
})();
