// The employer's verifier page: runs the microcred verifier (WebAssembly, delivered as base64
// by verifier-wasm.js) on the file a candidate sent, with the evidence the employer has, and
// shows the same report as `microcred verify`. Nothing leaves the browser (the page's CSP
// forbids connections) and nothing is stored. The DOM is built with createElement and
// textContent only: no data ever goes through innerHTML.
(function () {
  "use strict";

  // Kinds of mc_add.
  const KIND_COMPONENT = 6;
  const KIND_NAME = 9;
  // Flags of mc_verify.
  const FLAG_REQUIRE_TRUSTED = 1;
  const FLAG_REQUIRE_STATUS = 2;

  const $ = (id) => document.getElementById(id);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8");

  let wasmModule = null; // WebAssembly.Module (kept to re-instantiate after a trap)
  let wasmImports = {};
  let ex = null; // the instance's exports
  let candidate = null; // {name, bytes: Uint8Array}
  let runs = 0; // completed verifications (data-run on #result)
  let latest = 0; // id of the newest requested verification
  let previewUrl = null;
  let revealNext = false; // scroll the next result into view (a new file was chosen)

  // ---- The WebAssembly module -------------------------------------------------------------

  function decodeBase64(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  // Stubs for imports the module unexpectedly declares: each throws if ever called.
  function stubImports(module) {
    const imports = {};
    const names = [];
    for (const imp of WebAssembly.Module.imports(module)) {
      imports[imp.module] = imports[imp.module] || {};
      names.push(imp.module + "." + imp.name + " (" + imp.kind + ")");
      if (imp.kind === "function") {
        imports[imp.module][imp.name] = function () {
          throw new Error("the verifier called the missing import " + imp.module + "." + imp.name);
        };
      }
    }
    return { imports, names };
  }

  async function instantiate() {
    ex = (await WebAssembly.instantiate(wasmModule, wasmImports)).exports;
  }

  async function load() {
    const b64 = globalThis.MICROCRED_WASM;
    if (typeof b64 !== "string" || b64.length === 0) {
      throw new Error("the verifier module (verifier-wasm.js) is missing from this folder");
    }
    wasmModule = await WebAssembly.compile(decodeBase64(b64));
    const declared = WebAssembly.Module.imports(wasmModule);
    if (declared.length > 0) {
      const stub = stubImports(wasmModule);
      wasmImports = stub.imports;
      console.warn("microcred verifier: the module imports " + stub.names.join(", ") + "; stubbed");
    }
    await instantiate();
    for (const name of ["memory", "mc_buffer", "mc_add", "mc_reset", "mc_verify", "mc_output_ptr", "mc_output_len"]) {
      if (!(name in ex)) throw new Error("the verifier module does not export " + name);
    }
  }

  // Stages bytes in the module's input buffer.
  function stage(bytes) {
    const ptr = ex.mc_buffer(bytes.length);
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  }

  function output() {
    const ptr = ex.mc_output_ptr();
    const len = ex.mc_output_len();
    return decoder.decode(new Uint8Array(ex.memory.buffer, ptr, len).slice());
  }

  function refusalReason() {
    try {
      const v = JSON.parse(output());
      if (v && typeof v.error === "string") return v.error;
    } catch (_) {
      // fall through
    }
    return "this file was refused";
  }

  // ---- Inputs -----------------------------------------------------------------------------

  function evidenceInputs() {
    return Array.from(document.querySelectorAll("[data-kind]"));
  }

  // Everything the employer added, read now: [{input, label, kind, bytes}].
  async function gatherEvidence() {
    const out = [];
    for (const input of evidenceInputs()) {
      const kind = Number(input.dataset.kind);
      if (input.type === "file") {
        for (const f of Array.from(input.files || [])) {
          out.push({ input, label: f.name, kind, bytes: new Uint8Array(await f.arrayBuffer()) });
        }
      } else {
        const text = input.value.trim();
        if (text) out.push({ input, label: text, kind, bytes: encoder.encode(text) });
      }
    }
    return out;
  }

  function messageFor(input) {
    const id = input.getAttribute("aria-describedby");
    return id ? $(id) : null;
  }

  // The verification time: the datetime input read as UTC, or now.
  function verificationTime() {
    const v = $("opt-at").value;
    if (!v) return { ms: Date.now(), chosen: false };
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(v);
    if (!m) return null;
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0), +((m[7] || "0") + "00").slice(0, 3));
    return Number.isFinite(ms) ? { ms, chosen: true } : null;
  }

  function flags() {
    return ($("opt-trusted").checked ? FLAG_REQUIRE_TRUSTED : 0) | ($("opt-status").checked ? FLAG_REQUIRE_STATUS : 0);
  }

  function isImage(bytes) {
    const png = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
    if (png) return "image/png";
    const head = decoder.decode(bytes.subarray(0, 1024)).trimStart();
    if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml";
    return null;
  }

  // ---- Verification -----------------------------------------------------------------------

  async function verify() {
    if (!candidate) return;
    const id = ++latest;
    if (!ex) return; // run again once the module is ready
    const evidence = await gatherEvidence();
    if (id !== latest) return; // a newer request superseded this one
    const at = verificationTime();
    if (!at) {
      showProblem("The date and time to check at is not valid.");
      return;
    }
    for (const input of evidenceInputs()) {
      const msg = messageFor(input);
      if (msg) msg.textContent = "";
    }
    const refused = [];
    let result;
    let ms;
    try {
      const t0 = performance.now();
      ex.mc_reset();
      for (const ev of evidence) {
        if (ev.kind === KIND_COMPONENT) {
          // A component is reported under its file name, staged just before it.
          stage(encoder.encode(ev.label));
          ex.mc_add(KIND_NAME);
        }
        stage(ev.bytes);
        if (ex.mc_add(ev.kind) !== 0) refused.push({ ev, reason: refusalReason() });
      }
      stage(encoder.encode(candidate.name));
      ex.mc_add(KIND_NAME);
      stage(candidate.bytes);
      const code = ex.mc_verify(at.ms, flags());
      const text = output();
      ms = performance.now() - t0;
      result = JSON.parse(text);
      if (typeof result.exit_code !== "number") result.exit_code = code;
    } catch (e) {
      // A trap leaves the instance in an unknown state: start a fresh one.
      console.error(e);
      try {
        await instantiate();
      } catch (_) {
        ex = null;
      }
      showProblem("The verifier failed on this file: " + (e && e.message ? e.message : String(e)));
      return;
    }
    for (const r of refused) {
      const msg = messageFor(r.ev.input);
      if (msg) {
        const line = document.createElement("span");
        line.textContent = "Not used: " + r.ev.label + ": " + r.reason;
        msg.appendChild(line);
      }
    }
    runs++;
    render(result, ms, at, refused);
  }

  // ---- Rendering --------------------------------------------------------------------------

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "id" || k === "tabindex") e.setAttribute(k, v);
        else e[k] = v;
      }
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  function verdictStyle(result) {
    const v = result.verdict;
    if (v === "valid") {
      return /UNKNOWN/i.test(result.headline || "") ? { cls: "caution", icon: "\u2713" } : { cls: "valid", icon: "\u2713" };
    }
    if (v === "invalid") return { cls: "invalid", icon: "\u2717" };
    return { cls: "indeterminate", icon: "?" };
  }

  function markStyle(mark) {
    const m = String(mark).toLowerCase();
    if (m === "pass" || m === "trusted" || m === "valid") return { cls: "mark-pass", icon: "\u2713" };
    if (m === "fail" || m === "invalid" || m === "failed") return { cls: "mark-fail", icon: "\u2717" };
    if (m === "not checked") return { cls: "mark-skip", icon: "\u2013" };
    return { cls: "mark-unknown", icon: "?" };
  }

  function formatUtc(ms) {
    return new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
  }

  function replaceResult(node) {
    const region = $("result-region");
    const old = $("result");
    if (old) old.remove();
    region.appendChild(node);
  }

  function showProblem(message) {
    runs++;
    replaceResult(
      el("div", { id: "result", class: "result indeterminate", "data-exit-code": "2", "data-verdict": "error", "data-run": String(runs) },
        el("p", { class: "headline" }, el("span", { class: "icon", "aria-hidden": "true", text: "!" }), " ", el("span", { text: "COULD NOT CHECK" })),
        el("p", { class: "explanation", text: message })));
  }

  function checksTable(checks) {
    const tbody = el("tbody");
    for (const c of checks) {
      const s = markStyle(c.mark);
      tbody.appendChild(el("tr", { class: s.cls },
        el("th", { scope: "row", "data-label": "Check", text: String(c.label) }),
        el("td", { class: "mark", "data-label": "Result" }, el("span", { class: "icon", "aria-hidden": "true", text: s.icon }), " ", String(c.mark)),
        el("td", { class: "reason", "data-label": "Why", text: String(c.reason || "") })));
    }
    return el("table", { class: "checks" },
      el("caption", { text: "Each check, and why" }),
      el("thead", null, el("tr", null,
        el("th", { scope: "col", text: "Check" }),
        el("th", { scope: "col", text: "Result" }),
        el("th", { scope: "col", text: "Why" }))),
      tbody);
  }

  function render(result, ms, at, refused) {
    const s = verdictStyle(result);
    const msText = ms.toFixed(1);
    const node = el("div", {
      id: "result",
      class: "result " + s.cls,
      "data-exit-code": String(result.exit_code),
      "data-verdict": String(result.verdict),
      "data-ms": msText,
      "data-run": String(runs),
    });
    node.appendChild(el("p", { class: "headline" },
      el("span", { class: "icon", "aria-hidden": "true", text: s.icon }), " ",
      el("span", { class: "headline-text", text: String(result.headline || "") })));
    const subject = String(result.subject || "").trim();
    if (subject) node.appendChild(el("p", { class: "subject", text: subject }));
    if (result.explanation) node.appendChild(el("p", { class: "explanation", text: String(result.explanation) }));
    if (refused.length > 0) {
      node.appendChild(el("p", { class: "refused", text:
        refused.length + (refused.length === 1 ? " file you added was" : " files you added were") +
        " not used: " + refused.map((r) => r.ev.label + " (" + r.reason + ")").join("; ") }));
    }
    if (result.source) node.appendChild(el("p", { class: "source", text: "The credential was " + String(result.source) + "." }));
    if (previewUrl) {
      node.appendChild(el("img", { class: "preview", src: previewUrl, alt: "The badge image the credential was found in" }));
    }
    if (Array.isArray(result.checks) && result.checks.length > 0) node.appendChild(checksTable(result.checks));
    node.appendChild(el("p", { class: "timing" },
      "Checked in " + msText + " ms in this browser, as of " + formatUtc(at.ms) + (at.chosen ? " (the time you chose)" : "") + ". File: ",
      el("span", { class: "file-name", text: candidate.name })));
    if (result.text) {
      node.appendChild(el("details", { class: "full" }, el("summary", { text: "Full report" }), el("pre", { text: String(result.text) })));
    }
    node.appendChild(el("details", { class: "json" }, el("summary", { text: "JSON" }),
      el("pre", { id: "result-json", text: JSON.stringify(result.report === undefined ? null : result.report, null, 2) })));
    replaceResult(node);
    if (revealNext) {
      revealNext = false;
      node.scrollIntoView({ block: "start" });
    }
  }

  // ---- Wiring -----------------------------------------------------------------------------

  function setCandidate(name, bytes) {
    if (previewUrl) {
      URL.revokeObjectURL(previewUrl);
      previewUrl = null;
    }
    const type = isImage(bytes);
    if (type) previewUrl = URL.createObjectURL(new Blob([bytes], { type }));
    candidate = { name, bytes };
    revealNext = true;
    $("file-chosen").textContent = "Chosen: " + name + " (" + bytes.length.toLocaleString("en") + " bytes)";
    verify();
  }

  async function takeFile(file) {
    if (!file) return;
    setCandidate(file.name, new Uint8Array(await file.arrayBuffer()));
  }

  function init() {
    const file = $("file");
    file.addEventListener("change", () => takeFile(file.files && file.files[0]));

    const zone = $("dropzone");
    for (const t of ["dragenter", "dragover"]) {
      zone.addEventListener(t, (e) => {
        e.preventDefault();
        zone.classList.add("dragging");
      });
    }
    for (const t of ["dragleave", "drop"]) zone.addEventListener(t, () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      const files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length > 0) {
        try {
          file.files = files;
        } catch (_) {
          // read-only in some browsers: the file is still used
        }
        takeFile(files[0]);
      }
    });
    // A file dropped elsewhere on the page must not make the browser navigate away.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());

    $("paste-verify").addEventListener("click", () => {
      const text = $("paste").value.trim();
      if (text) setCandidate("pasted.json", encoder.encode(text));
    });
    // Pasting a file (e.g. a copied badge image) anywhere outside a text field.
    document.addEventListener("paste", (e) => {
      const target = e.target;
      if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT")) return;
      const files = e.clipboardData && e.clipboardData.files;
      if (files && files.length > 0) {
        e.preventDefault();
        takeFile(files[0]);
      }
    });

    for (const input of evidenceInputs()) input.addEventListener("change", verify);
    for (const id of ["opt-trusted", "opt-status", "opt-at"]) $(id).addEventListener("change", verify);
    $("form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (!candidate) {
        $("file").focus();
        return;
      }
      verify();
    });

    const engine = $("engine");
    load().then(
      () => {
        engine.textContent = "Verifier ready (runs in this browser).";
        document.documentElement.dataset.ready = "true";
        if (candidate) verify();
      },
      (e) => {
        console.error(e);
        engine.textContent = "The verifier could not start: " + (e && e.message ? e.message : String(e));
        engine.classList.add("error");
        document.documentElement.dataset.ready = "error";
      });
  }

  init();
})();
