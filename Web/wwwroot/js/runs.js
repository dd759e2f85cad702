// The runs list (/Runs): pick runs with the checkboxes and Compare them (/Runs/Compare?ids=…), or delete one through
// the REST API after the layout's confirmation dialog (site.js asks for any form with data-confirm).
(function () {
  "use strict";
  const compare = document.querySelector("[data-runs-compare]");
  if (!compare) {
    return;
  }
  const button = compare.querySelector("[data-runs-compare-button]");
  const picked = compare.querySelector("[data-runs-picked]");
  const refresh = function () {
    const n = compare.querySelectorAll("[data-run-pick]:checked").length;
    button.disabled = n < 1;
    picked.textContent = n === 0 ? "Pick two or more runs to overlay their metrics."
      : n + " run" + (n === 1 ? "" : "s") + " picked" + (n === 1 ? " (one run opens on its own)" : "") + ".";
  };
  compare.addEventListener("change", refresh);
  refresh();

  // Delete: a throw-away form carries the question, so the shared dialog asks; once confirmed, DELETE /api/v1/runs/{id}.
  document.addEventListener("click", function (event) {
    const trigger = event.target.closest("[data-run-delete]");
    if (!trigger) {
      return;
    }
    const form = document.createElement("form");
    form.hidden = true;
    form.dataset.confirm = trigger.dataset.confirmQuestion;
    form.dataset.runDeleteForm = trigger.dataset.runDelete;
    document.body.appendChild(form);
    form.requestSubmit();
  });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.runDeleteForm || event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    const id = form.dataset.runDeleteForm;
    form.remove();
    fetch("/api/v1/runs/" + encodeURIComponent(id), {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok && response.status !== 404) {
        throw new Error("The run could not be deleted (" + response.status + ").");
      }
      const row = document.querySelector('tr.run[data-run-id="' + id + '"]');
      if (row) {
        row.remove();
      }
      if (!document.querySelector("tr.run")) {
        window.location.reload();
      }
      refresh();
    }).catch(function (error) {
      window.alert(error.message);
    });
  });
})();
