// The new-job form: shows the inputs for what runs (command, module or image), and keeps a live preview of what the
// scheduler would decide. The form itself is turned into the submit request by the page (?handler=Request, so the
// command is split and options read exactly as on submit), then sent to POST /api/v1/jobs/preview; field errors from
// either go beside their fields, marked data-preview so the next round clears them.
(function () {
  "use strict";
  const form = document.querySelector("[data-job-form]");
  const box = document.querySelector("[data-job-preview]");
  if (!form) {
    return;
  }

  const showRuns = function () {
    const checked = form.querySelector("[data-runs]:checked");
    const runs = checked ? checked.value : "command";
    form.querySelectorAll("[data-runs-for]").forEach(function (section) {
      section.hidden = section.dataset.runsFor !== runs;
    });
  };
  form.querySelectorAll("[data-runs]").forEach(function (radio) { radio.addEventListener("change", showRuns); });
  showRuns();

  if (!box) {
    return;
  }

  const message = box.querySelector("[data-preview-message]");
  const detail = box.querySelector("[data-preview-detail]");
  const clearErrors = function () {
    form.querySelectorAll("[data-field][data-preview]").forEach(function (span) {
      span.textContent = "";
      delete span.dataset.preview;
    });
  };
  const showErrors = function (errors) {
    let unplaced = [];
    Object.keys(errors || {}).forEach(function (key) {
      const field = key.replace(/\[\d+\]$/, "");
      const name = field.charAt(0).toLowerCase() + field.slice(1);
      const span = form.querySelector('[data-field="' + name + '"]');
      const text = [].concat(errors[key]).join(" ");
      if (span) {
        span.textContent = text;
        span.dataset.preview = "1";
      } else {
        unplaced.push(text);
      }
    });
    return unplaced;
  };
  const say = function (text, tone, extra) {
    message.textContent = text;
    message.className = "mb-1 " + (tone ? "text-" + tone : "");
    detail.textContent = extra || "";
  };

  const ordinal = function (n) {
    const s = ["th", "st", "nd", "rd"];
    const v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  };

  let timer = null;
  let round = 0;
  const preview = function () {
    const mine = ++round;
    const url = new URL(form.action, window.location.href);
    url.searchParams.set("handler", "Request");
    fetch(url.toString(), {
      method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.json(); })
      .then(function (built) {
        if (mine !== round) {
          return null;
        }
        clearErrors();
        if (!built.request) {
          showErrors(built.errors);
          say("Fix the fields marked in red first.", "danger");
          return null;
        }
        return fetch("/api/v1/jobs/preview", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(built.request),
        }).then(function (response) {
          if (response.status === 404 || response.status === 405) {
            say("The preview is not available on this platform yet; submitting still says why a job waits.", "secondary");
            return;
          }
          return response.json().then(function (body) {
            if (mine !== round) {
              return;
            }
            if (!response.ok) {
              const rest = showErrors(body.errors);
              say(rest.length ? rest.join(" ") : (body.detail || body.title || "The scheduler could not read this job."), "danger");
              return;
            }
            const parts = [];
            if (body.reason) {
              parts.push(body.reason);
            }
            if (typeof body.position === "number") {
              parts.push(ordinal(body.position) + " in line");
            }
            if (body.estimatedStartAt) {
              parts.push("about " + new Date(body.estimatedStartAt).toLocaleString());
            }
            say(body.message, body.wouldStartNow ? "success" : body.never ? "danger" : "warning", parts.join(" · "));
          });
        });
      })
      .catch(function () { say("No answer from the platform; try again in a moment.", "secondary"); });
  };

  const schedule = function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 600);
  };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  preview();
})();
