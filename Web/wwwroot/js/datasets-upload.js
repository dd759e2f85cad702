// The dataset upload panel: files and folders (picked or dropped) go to the API's draft, three files at a time. Small
// files go in one PUT; files larger than one part go through the resumable upload API, their parts one after another,
// each retried with backoff when the connection drops. The upload id is kept in localStorage (by dataset, path, size
// and modification time), so dropping the same file again after a reload asks which parts arrived and sends the rest.
// XMLHttpRequest rather than fetch because only XHR reports upload progress. The API takes the session cookie; the
// X-Requested-With header marks the request as script-made (a plain form cannot send it).
(function () {
  "use strict";

  const panel = document.getElementById("upload-panel");
  if (!panel) {
    return;
  }

  const PARALLEL = 3;
  // Files above one part (the server's usual part size) go in parts; the server says the exact part size.
  const PART_THRESHOLD = 16 * 1024 * 1024;
  const ATTEMPTS = 6;
  const baseUrl = panel.dataset.uploadUrl;
  const uploadsUrl = panel.dataset.uploadsUrl;
  const datasetId = panel.dataset.datasetId;
  const dropzone = document.getElementById("upload-dropzone");
  const queueList = document.getElementById("upload-queue");
  const prefixInput = document.getElementById("upload-prefix");
  const cancelButton = document.getElementById("upload-cancel");
  const overall = document.getElementById("upload-overall");
  const overallBar = document.getElementById("upload-overall-bar");
  const overallText = document.getElementById("upload-overall-text");

  /** @type {Array<{file: File, path: string, loaded: number, status: string, xhr: XMLHttpRequest|null, row: HTMLElement}>} */
  let items = [];
  let startedAt = 0;

  function formatBytes(bytes) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return (unit === 0 ? value : value.toFixed(1)) + " " + units[unit];
  }

  // Each segment escaped, the slashes kept: the API route takes the rest of the address as the path.
  function urlFor(path) {
    return baseUrl + path.split("/").map(encodeURIComponent).join("/");
  }

  function destination(relative) {
    let prefix = prefixInput.value.trim().replace(/^\/+/, "");
    if (prefix && !prefix.endsWith("/")) {
      prefix += "/";
    }
    return prefix + relative.replace(/^\/+/, "");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function addFile(file, relative) {
    const item = { file: file, path: destination(relative || file.webkitRelativePath || file.name), loaded: 0, status: "queued", xhr: null };
    const row = el("li", "list-group-item upload-item");
    const head = el("div", "d-flex justify-content-between gap-2 small");
    head.append(el("span", "font-monospace text-break", item.path), el("span", "upload-status text-nowrap", "queued"));
    const bar = el("div", "progress mt-1");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", item.path);
    bar.append(el("div", "progress-bar"));
    const detail = el("div", "small text-body-secondary upload-detail", "0 B of " + formatBytes(file.size));
    row.append(head, bar, detail);
    item.row = row;
    queueList.hidden = false;
    queueList.append(row);
    items.push(item);
  }

  function show(item, status, detail, barClass) {
    item.status = status;
    item.row.querySelector(".upload-status").textContent = status;
    const bar = item.row.querySelector(".progress-bar");
    const percent = item.file.size ? Math.round((100 * item.loaded) / item.file.size) : (status === "done" ? 100 : 0);
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    bar.className = "progress-bar" + (barClass ? " " + barClass : "");
    bar.parentElement.setAttribute("aria-valuenow", String(percent));
    const line = item.row.querySelector(".upload-detail");
    line.textContent = detail || formatBytes(item.loaded) + " of " + formatBytes(item.file.size);
  }

  function updateOverall() {
    const total = items.reduce((sum, i) => sum + i.file.size, 0);
    const loaded = items.reduce((sum, i) => sum + i.loaded, 0);
    const done = items.filter((i) => i.status === "done").length;
    const failed = items.filter((i) => i.status === "failed" || i.status === "cancelled").length;
    const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
    const percent = total ? Math.round((100 * loaded) / total) : 100;
    overall.hidden = items.length === 0;
    overallBar.setAttribute("aria-valuenow", String(percent));
    overallBar.querySelector(".progress-bar").style.width = percent + "%";
    overallText.textContent = formatBytes(loaded) + " of " + formatBytes(total) + " · " + done + " of " + items.length + " files"
      + (failed ? " · " + failed + " failed" : "") + " · " + formatBytes(loaded / seconds) + "/s";
  }

  function retryButton(item) {
    const button = el("button", "btn btn-sm btn-outline-primary mt-1", "Retry");
    button.type = "button";
    button.addEventListener("click", function () {
      button.remove();
      item.loaded = 0;
      show(item, "queued");
      pump();
    });
    item.row.append(button);
  }

  // The server's ProblemDetails says why (quota, a bad path); fall back to the status line.
  function problemOf(xhr) {
    try {
      const problem = JSON.parse(xhr.responseText);
      const fieldErrors = problem.errors ? Object.values(problem.errors).flat().join(" ") : "";
      return problem.detail || fieldErrors || problem.title || xhr.statusText;
    } catch {
      return xhr.status ? xhr.status + " " + xhr.statusText : "The connection failed.";
    }
  }

  function start(item) {
    if (item.file.size > PART_THRESHOLD && uploadsUrl) {
      startInParts(item);
      return;
    }
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    show(item, "uploading", undefined, "progress-bar-striped progress-bar-animated");
    xhr.open("PUT", urlFor(item.path));
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = function (event) {
      item.loaded = event.loaded;
      show(item, "uploading", undefined, "progress-bar-striped progress-bar-animated");
      updateOverall();
    };
    xhr.onload = function () {
      item.xhr = null;
      if (xhr.status >= 200 && xhr.status < 300) {
        item.loaded = item.file.size;
        let sha = "";
        try {
          sha = JSON.parse(xhr.responseText).sha256 || "";
        } catch { /* a success without a body still counts */ }
        show(item, "done", "done · sha256 " + sha, "bg-success");
      } else {
        show(item, "failed", problemOf(xhr), "bg-danger");
        retryButton(item);
      }
      finish();
    };
    xhr.onerror = function () {
      item.xhr = null;
      show(item, "failed", "The connection failed.", "bg-danger");
      retryButton(item);
      finish();
    };
    xhr.onabort = function () {
      item.xhr = null;
      show(item, "cancelled", "Cancelled.", "bg-secondary");
      retryButton(item);
      finish();
    };
    xhr.send(item.file);
  }

  function finish() {
    updateOverall();
    pump();
  }

  // -- resumable uploads in parts -------------------------------------------------------------------------------

  function stateKey(item) {
    return "platform-upload:" + datasetId + ":" + item.path + ":" + item.file.size + ":" + item.file.lastModified;
  }

  // One request of a multipart upload: resolves with the finished XHR (any status), rejects on a dropped connection
  // ({ network: true }) or a cancel ({ cancelled: true }).
  function send(item, method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      if (item.cancelled) {
        reject({ cancelled: true });
        return;
      }
      const xhr = new XMLHttpRequest();
      item.xhr = xhr;
      xhr.open(method, url);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Content-Type", typeof body === "string" ? "application/json" : "application/octet-stream");
      if (onProgress) {
        xhr.upload.onprogress = function (event) { onProgress(event.loaded); };
      }
      xhr.onload = function () { item.xhr = null; resolve(xhr); };
      xhr.onerror = function () { item.xhr = null; reject({ network: true }); };
      xhr.onabort = function () { item.xhr = null; reject({ cancelled: true }); };
      xhr.send(body === undefined ? null : body);
    });
  }

  function wait(item, seconds, what) {
    show(item, "uploading", what + " failed; retrying in " + seconds + " s…", "progress-bar-striped");
    return new Promise(function (resolve) { setTimeout(resolve, seconds * 1000); });
  }

  // Sends again after a dropped connection or a 5xx, waiting 1, 2, 4… seconds; other answers go back to the caller.
  async function withRetries(item, what, attempt) {
    let pause = 1;
    for (let n = 1; ; n++) {
      try {
        const xhr = await attempt();
        if (xhr.status < 500 || n === ATTEMPTS) {
          return xhr;
        }
      } catch (failure) {
        if (!failure.network || n === ATTEMPTS) {
          throw failure;
        }
      }
      await wait(item, pause, what);
      pause = Math.min(pause * 2, 30);
    }
  }

  function ok(xhr) {
    if (xhr.status < 200 || xhr.status >= 300) {
      throw { problem: problemOf(xhr), status: xhr.status };
    }
    return xhr.responseText ? JSON.parse(xhr.responseText) : null;
  }

  // The upload remembered for this file, if the server still has it; otherwise a new one.
  async function openUpload(item, key) {
    const saved = localStorage.getItem(key);
    if (saved) {
      const found = await withRetries(item, "Resuming", function () { return send(item, "GET", uploadsUrl + "/" + encodeURIComponent(saved)); });
      if (found.status === 200) {
        return JSON.parse(found.responseText);
      }
      localStorage.removeItem(key);
    }
    const body = JSON.stringify({ path: item.path, size: item.file.size });
    const upload = ok(await withRetries(item, "Starting", function () { return send(item, "POST", uploadsUrl, body); }));
    localStorage.setItem(key, upload.uploadId);
    return upload;
  }

  async function startInParts(item) {
    const key = stateKey(item);
    const bars = "progress-bar-striped progress-bar-animated";
    item.cancelled = false;
    item.multipart = true;
    show(item, "uploading", "starting…", bars);
    try {
      const upload = await openUpload(item, key);
      const url = uploadsUrl + "/" + encodeURIComponent(upload.uploadId);
      const received = new Set(upload.received);
      // The bar starts at the bytes already on the server.
      let done = upload.receivedBytes;
      item.loaded = done;
      show(item, "uploading", undefined, bars);
      updateOverall();
      for (let number = 1; number <= upload.partCount; number++) {
        if (received.has(number)) {
          continue;
        }
        const from = (number - 1) * upload.partSize;
        const part = item.file.slice(from, Math.min(from + upload.partSize, item.file.size));
        const base = done;
        ok(await withRetries(item, "Part " + number, function () {
          return send(item, "PUT", url + "/parts/" + number, part, function (loaded) {
            item.loaded = base + loaded;
            show(item, "uploading", undefined, bars);
            updateOverall();
          });
        }));
        done += part.size;
        item.loaded = done;
      }
      show(item, "uploading", "verifying…", bars);
      const file = ok(await withRetries(item, "Completing", function () { return send(item, "POST", url + "/complete"); }));
      localStorage.removeItem(key);
      item.loaded = item.file.size;
      show(item, "done", "done · sha256 " + (file && file.sha256 || ""), "bg-success");
    } catch (failure) {
      if (failure.cancelled) {
        show(item, "cancelled", "Cancelled; Retry continues where it stopped.", "bg-secondary");
      } else {
        if (failure.status === 404 || failure.status === 400) {
          // Expired, or refused as a whole (a wrong size or hash): a retry starts afresh.
          localStorage.removeItem(key);
        }
        show(item, "failed", failure.problem || (failure.network ? "The connection failed; Retry continues where it stopped." : String(failure)), "bg-danger");
      }
      retryButton(item);
    }
    finish();
  }

  function pump() {
    const running = items.filter((i) => i.status === "uploading").length;
    const queued = items.filter((i) => i.status === "queued");
    for (let n = running; n < PARALLEL && queued.length; n++) {
      start(queued.shift());
    }
    const active = items.some((i) => i.status === "uploading" || i.status === "queued");
    cancelButton.disabled = !active;
    if (!active && items.length && items.every((i) => i.status === "done")) {
      // Everything is in: show the draft's new files (and the Publish button) from the server.
      overallText.textContent += " · all uploaded, refreshing…";
      setTimeout(function () { window.location.reload(); }, 800);
    }
  }

  function enqueue(pairs) {
    if (!pairs.length) {
      return;
    }
    if (!items.some((i) => i.status === "uploading" || i.status === "queued")) {
      startedAt = Date.now();
    }
    pairs.forEach((p) => addFile(p.file, p.path));
    updateOverall();
    pump();
  }

  // A dropped folder is walked with the entries API; fullPath starts with '/', which destination() drops.
  function readEntry(entry, out) {
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (file) { out.push({ file: file, path: entry.fullPath }); resolve(); }, function () { resolve(); });
      });
    }
    if (!entry.isDirectory) {
      return Promise.resolve();
    }
    const reader = entry.createReader();
    // readEntries answers in batches (100 in Chrome): keep reading until it returns none.
    return new Promise(function (resolve) {
      const batch = function () {
        reader.readEntries(function (entries) {
          if (!entries.length) {
            resolve();
            return;
          }
          Promise.all(entries.map((e) => readEntry(e, out))).then(batch);
        }, function () { resolve(); });
      };
      batch();
    });
  }

  dropzone.addEventListener("dragover", function (event) {
    event.preventDefault();
    dropzone.classList.add("bg-body-secondary");
  });
  dropzone.addEventListener("dragleave", function () {
    dropzone.classList.remove("bg-body-secondary");
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    dropzone.classList.remove("bg-body-secondary");
    const out = [];
    const entries = Array.from(event.dataTransfer.items || [])
      .map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null))
      .filter(Boolean);
    if (!entries.length) {
      enqueue(Array.from(event.dataTransfer.files).map((f) => ({ file: f, path: f.name })));
      return;
    }
    Promise.all(entries.map((e) => readEntry(e, out))).then(function () { enqueue(out); });
  });

  ["upload-files", "upload-folder"].forEach(function (id) {
    const input = document.getElementById(id);
    input.addEventListener("change", function () {
      enqueue(Array.from(input.files).map((f) => ({ file: f, path: f.webkitRelativePath || f.name })));
      input.value = "";
    });
  });

  cancelButton.addEventListener("click", function () {
    items.forEach(function (item) {
      if (item.status === "queued") {
        show(item, "cancelled", "Cancelled.", "bg-secondary");
        retryButton(item);
      } else if (item.status === "uploading") {
        item.cancelled = true;
        if (item.xhr) {
          item.xhr.abort();
        }
      }
    });
    updateOverall();
    cancelButton.disabled = true;
  });
})();
