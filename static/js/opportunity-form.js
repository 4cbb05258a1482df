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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-opportunity-form]").forEach(function (form) {
      limit(form, true);
      form.addEventListener("change", function (event) {
        if (event.target.matches("select[name=pipeline]")) { limit(form, false); }
      });
    });
  });
})();
