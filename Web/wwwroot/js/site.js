// Small behaviours shared by every page. No inline scripts: everything is wired through data- attributes.
(function () {
  "use strict";

  // Client-side validation from the data-val-* attributes the tag helpers write (the server validates again).
  if (window.aspnetValidation) {
    // Default class names on purpose: the server marks invalid fields the same way, and site.css styles both.
    new window.aspnetValidation.ValidationService().bootstrap({ watch: true });
  }

  // Destructive actions: a form with data-confirm="question" asks first, in the layout's modal.
  const modalElement = document.getElementById("confirm-modal");
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) {
      return;
    }
    const question = form.dataset.confirm;
    if (!question || form.dataset.confirmed === "yes") {
      return;
    }
    event.preventDefault();
    const submitter = event.submitter;
    const proceed = function () {
      form.dataset.confirmed = "yes";
      if (submitter) {
        form.requestSubmit(submitter);
      } else {
        form.requestSubmit();
      }
    };
    if (!modalElement || !window.bootstrap) {
      if (window.confirm(question)) {
        proceed();
      }
      return;
    }
    document.getElementById("confirm-message").textContent = question;
    const modal = window.bootstrap.Modal.getOrCreateInstance(modalElement);
    const ok = document.getElementById("confirm-ok");
    const onOk = function () {
      ok.removeEventListener("click", onOk);
      modal.hide();
      proceed();
    };
    ok.addEventListener("click", onOk);
    modalElement.addEventListener("hidden.bs.modal", function () {
      ok.removeEventListener("click", onOk);
    }, { once: true });
    modal.show();
  });

  // Copy buttons: data-copy="#selector" of an input whose value to copy.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    const source = document.querySelector(button.dataset.copy);
    if (!source) {
      return;
    }
    const done = function () {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done);
    } else {
      // Plain http on another host has no clipboard API: select the text and use the older command.
      source.select();
      document.execCommand("copy");
      done();
    }
  });

  // SDK config download: built here in the browser so the key never travels back to the server.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-download-config]");
    if (!button) {
      return;
    }
    const key = document.querySelector(button.dataset.keySource);
    const config = { api_url: button.dataset.apiUrl, api_key: key ? key.value : "" };
    const blob = new Blob([JSON.stringify(config, null, 2) + "\n"], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "platform.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  });

  // Times are rendered in UTC on the server; show them in the reader's own time zone.
  const pad = function (n) { return String(n).padStart(2, "0"); };
  document.querySelectorAll("time[datetime]").forEach(function (element) {
    const date = new Date(element.getAttribute("datetime"));
    if (!isNaN(date)) {
      element.textContent = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate())
        + " " + pad(date.getHours()) + ":" + pad(date.getMinutes());
    }
  });
})();
