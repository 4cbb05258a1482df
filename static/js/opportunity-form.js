// The opportunity form: the stage select offers only the stages of the chosen pipeline (its options are
// grouped by pipeline, each group labelled with the pipeline's name). The server checks the same.
(function () {
  "use strict";

  function limit(form, keepChoice) {
    var pipeline = form.querySelector("select[name=pipeline]");
    var stage = form.querySelector("select[name=stage]");
    if (!pipeline || !stage || pipeline.selectedIndex < 0) { return; }
    var name = pipeline.options[pipeline.selectedIndex].text;
    var first = null;
    stage.querySelectorAll("optgroup").forEach(function (group) {
      var mine = group.label === name;
      group.hidden = !mine;
      group.disabled = !mine;
      if (mine && !first && group.querySelector("option")) { first = group.querySelector("option"); }
    });
    var chosen = stage.options[stage.selectedIndex];
    if (!keepChoice || !chosen || !chosen.value || chosen.parentElement.disabled) {
      if (first) { stage.value = first.value; }
    }
  }

  // A probability left at the stage's follows the stage picked (the server does the same when saving).
  function follow(form, previous) {
    var stage = form.querySelector("select[name=stage]");
    var probability = form.querySelector("input[name=probability]");
    if (!stage || !probability || probability.disabled || !stage.dataset.probabilities) { return; }
    var table = JSON.parse(stage.dataset.probabilities);
    var before = table[previous];
    if (probability.value === "" || (before !== undefined && String(before) === probability.value)) {
      if (table[stage.value] !== undefined) { probability.value = String(table[stage.value]); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-opportunity-form]").forEach(function (form) {
      var stage = form.querySelector("select[name=stage]");
      var previous = stage ? stage.value : "";
      limit(form, true);
      form.addEventListener("change", function (event) {
        if (event.target.matches("select[name=pipeline]")) { limit(form, false); }
        if (event.target.matches("select[name=pipeline], select[name=stage]")) {
          follow(form, previous);
          previous = stage ? stage.value : "";
        }
      });
    });
  });
})();
