// The employer's verifier page (web/verifier, built by scripts/build-verifier.sh) in headless
// Chromium, against the CLI: for each fixture the page's result (#result data-exit-code and
// the report JSON in #result-json) must equal what `microcred verify --json` prints for the
// same file with the same evidence and verification time, loaded over HTTP and from file://.
// Also: no request leaves the page but its own files, no CSP violation, nothing stored,
// markup in a credential shows as text, connect-src 'none' is enforced; screenshots and the
// browser's verification time (20 runs).
//
// Run by tests/verifier/run.sh, which makes the fixtures and serves the folder. Environment:
//   MICROCRED     the CLI binary          FIXTURES  the fixtures folder (run.sh)
//   VERIFIER_DIR  the built page folder   HTTP_URL  the page over HTTP (…/index.html or …/verify/)
//   AT            verification time, "YYYY-MM-DDTHH:MM" (UTC)
//   OUT           screenshots folder      CHROMIUM  browser binary (default /usr/bin/chromium)
// Prints `verifier: N passed, M failed`; exits 1 on any failure, 2 on setup failure.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") {
    console.error(`verifier: setup failed: ${name} is not set`);
    process.exit(2);
  }
  return v;
};
const MICROCRED = env("MICROCRED");
const FIXTURES = resolve(env("FIXTURES"));
const VERIFIER_DIR = resolve(env("VERIFIER_DIR"));
const HTTP_URL = env("HTTP_URL");
const AT = env("AT");
const OUT = resolve(env("OUT"));
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const RUNS = Number(process.env.TIMING_RUNS || 20);

let passed = 0;
let failed = 0;
const ok = (what) => {
  passed++;
  console.log(`ok   - ${what}`);
};
const bad = (what, detail) => {
  failed++;
  console.log(`FAIL - ${what}`);
  if (detail) console.log(`       ${String(detail).split("\n").join("\n       ")}`);
};
const check = (cond, what, detail) => (cond ? ok(what) : bad(what, typeof detail === "function" ? detail() : detail));

// The cases: the candidate's file, the evidence the employer adds (page input + CLI flag).
const CASES = [
  { name: "valid", file: "valid.json", exit: 0, shots: true, timing: true },
  { name: "tampered", file: "tampered.json", exit: 1 },
  { name: "baked PNG", file: "badge.png", exit: 0, source: /PNG/ },
  {
    name: "revoked",
    file: "revoked.json",
    exit: 1,
    shots: true,
    evidence: [{ input: "#ev-status", file: "list.json", cli: ["--status-list", "list.json"] }],
  },
  { name: "markup in the name", file: "hostile.json", exit: 0, hostile: true },
  { name: "baked SVG", file: "badge.svg", exit: 0, source: /SVG/ },
  {
    name: "revoked, known from a bundle",
    file: "revoked.json",
    exit: 1,
    evidence: [{ input: "#ev-bundle", file: "bundle.json", cli: ["--bundle", "bundle.json"] }],
  },
  { name: "status unknown, required", file: "revoked.json", exit: 1, options: { status: true } },
  {
    name: "issuer on the trust list, required",
    file: "valid.json",
    exit: 0,
    options: { trusted: true },
    evidence: [{ input: "#ev-trust", file: "trust.json", cli: ["--trust", "trust.json"] }],
  },
  {
    name: "issuer not on the trust list, required",
    file: "valid.json",
    exit: 1,
    options: { trusted: true },
    evidence: [{ input: "#ev-trust", file: "trust-other.json", cli: ["--trust", "trust-other.json"] }],
  },
  {
    name: "pinned to another institution's key",
    file: "valid.json",
    exit: 1,
    evidence: [{ input: "#ev-pin", file: "other-did.json", cli: ["--issuer-key", "other-did.json"] }],
  },
  {
    name: "pinned key typed in",
    file: "valid.json",
    exit: 0,
    evidence: [{ input: "#ev-pin-text", text: "key.pub" }],
  },
  { name: "CLR record", file: "clr.json", exit: 0, fullReport: true },
  {
    name: "stack with its components",
    file: "cert.json",
    exit: 0,
    shots: true,
    fullReport: true,
    evidence: [{ open: "#stack-box > summary", input: "#ev-components", files: ["df-101.json", "df-102.json", "df-103.json"],
      cli: ["--component", "df-101.json", "--component", "df-102.json", "--component", "df-103.json"] }],
  },
  {
    name: "stack missing a component",
    file: "cert.json",
    exit: 1,
    evidence: [{ open: "#stack-box > summary", input: "#ev-components", files: ["df-101.json", "df-103.json"],
      cli: ["--component", "df-101.json", "--component", "df-103.json"] }],
  },
  {
    name: "stack to an e-mail address, learner not given",
    file: "email-cert.json",
    exit: 2,
    evidence: [{ open: "#stack-box > summary", input: "#ev-components", files: ["email-df-101.json", "email-df-102.json", "email-df-103.json"],
      cli: ["--component", "email-df-101.json", "--component", "email-df-102.json", "--component", "email-df-103.json"] }],
  },
  {
    name: "stack to an e-mail address, with the learner's address",
    file: "email-cert.json",
    exit: 0,
    evidence: [
      { open: "#stack-box > summary", input: "#ev-components", files: ["email-df-101.json", "email-df-102.json", "email-df-103.json"],
        cli: ["--component", "email-df-101.json", "--component", "email-df-102.json", "--component", "email-df-103.json"] },
      { input: "#ev-learner", value: "amara@example.org", cli: ["--learner", "amara@example.org"] },
    ],
  },
];

const textOf = (e) => readFileSync(join(FIXTURES, e.text), "utf8").trim();

// What the CLI says: its exit code and its JSON object.
function cli(c) {
  const args = ["verify", "--json", "--at", `${AT}:00Z`];
  for (const e of c.evidence || []) args.push(...(e.text ? ["--issuer-key", textOf(e)] : e.cli));
  if (c.options && c.options.trusted) args.push("--require-trusted");
  if (c.options && c.options.status) args.push("--require-status");
  args.push(c.file);
  let stdout;
  let code = 0;
  try {
    stdout = execFileSync(MICROCRED, args, { cwd: FIXTURES, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (typeof e.status !== "number") throw e;
    code = e.status;
    stdout = e.stdout;
  }
  const lines = stdout.split("\n").filter((l) => l.trim());
  if (lines.length !== 1) throw new Error(`microcred ${args.join(" ")} printed ${lines.length} lines:\n${stdout}`);
  return { code, report: JSON.parse(lines[0]) };
}

// The first difference between two JSON values, as a path and both sides.
function firstDifference(a, b, path = "$") {
  if (isDeepStrictEqual(a, b)) return null;
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path}: page ${JSON.stringify(a)}\n       cli  ${JSON.stringify(b)}`;
}

// A page with watchers: requests that are not the page's own files, CSP reports, errors.
async function openPage(context, mode, baseUrl) {
  const page = await context.newPage();
  const w = { foreign: [], csp: [], errors: [] };
  const origin = mode === "http" ? new URL(baseUrl).origin : null;
  page.on("request", (req) => {
    const u = new URL(req.url());
    const own = mode === "file" ? u.protocol === "file:" : u.origin === origin;
    // blob: and data: URLs are made by the page itself (the badge preview, the icon).
    if (!own && u.protocol !== "blob:" && u.protocol !== "data:") w.foreign.push(req.url());
  });
  page.on("console", (msg) => {
    const t = msg.text();
    if (/Content.Security.Policy|Refused to/i.test(t)) w.csp.push(t);
    else if (msg.type() === "error") w.errors.push(`console: ${t}`);
  });
  page.on("pageerror", (e) => w.errors.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    w.errors.push(`dialog opened: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await page.addInitScript(() => {
    window.__csp = [];
    window.alert = () => {
      window.__alerted = true;
    };
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(baseUrl);
  await page.waitForSelector("html[data-ready]", { timeout: 30000 });
  const ready = await page.getAttribute("html", "data-ready");
  if (ready !== "true") {
    throw new Error(`the verifier did not start (${mode}): ${await page.textContent("#engine")}`);
  }
  return { page, w };
}

async function watchersClean(page, w, label) {
  const events = await page.evaluate(() => window.__csp || []);
  check(w.foreign.length === 0, `${label}: no request left the page`, () => w.foreign.join("\n"));
  check(w.csp.length === 0 && events.length === 0, `${label}: no CSP violation`, () => [...w.csp, ...events].join("\n"));
  check(w.errors.length === 0, `${label}: no errors`, () => w.errors.join("\n"));
}

// Chooses the evidence, then the candidate's file; returns the new #result's attributes.
async function verifyOnPage(page, c, { at = AT } = {}) {
  if (at) await page.fill("#opt-at", at);
  if (c.options && c.options.trusted) await page.check("#opt-trusted");
  if (c.options && c.options.status) await page.check("#opt-status");
  if (c.evidence && c.evidence.some((e) => !e.open && !e.value)) await page.click("#evidence > summary");
  for (const e of c.evidence || []) {
    if (e.open) await page.click(e.open);
    if (e.value) await page.fill(e.input, e.value);
    else if (e.text) await page.fill(e.input, textOf(e));
    else await page.setInputFiles(e.input, (e.files || [e.file]).map((f) => join(FIXTURES, f)));
  }
  await page.setInputFiles("#file", join(FIXTURES, c.file));
  await page.waitForSelector("#result[data-exit-code]", { timeout: 30000 });
  return page.evaluate(() => {
    const r = document.getElementById("result");
    const j = document.getElementById("result-json");
    return {
      exit: r.dataset.exitCode,
      verdict: r.dataset.verdict,
      ms: r.dataset.ms,
      run: r.dataset.run,
      json: j ? j.textContent : null,
      headline: r.querySelector(".headline") ? r.querySelector(".headline").textContent : "",
      subject: r.querySelector(".subject") ? r.querySelector(".subject").textContent : "",
      source: r.querySelector(".source") ? r.querySelector(".source").textContent : "",
      full: r.querySelector("details.full pre") ? r.querySelector("details.full pre").textContent : "",
      checks: r.querySelectorAll("table.checks tbody tr").length,
      live: !!r.closest("[aria-live=polite]"),
    };
  });
}

async function timing(page) {
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const run = Number(await page.getAttribute("#result", "data-run"));
    await page.click("#verify");
    await page.waitForSelector(`#result[data-run="${run + 1}"]`, { timeout: 30000 });
    ms.push(Number(await page.getAttribute("#result", "data-ms")));
  }
  ms.sort((a, b) => a - b);
  const median = ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
  return { median, min: ms[0], max: ms[ms.length - 1], n: ms.length };
}

async function main() {
  for (const c of CASES) {
    const p = join(FIXTURES, c.file);
    if (!existsSync(p)) throw new Error(`missing fixture ${p}`);
  }
  mkdirSync(OUT, { recursive: true });
  const expected = new Map(CASES.map((c) => [c.name, cli(c)]));
  for (const c of CASES) {
    const e = expected.get(c.name);
    check(e.code === c.exit, `cli: ${c.name} exits ${c.exit}`, `exit ${e.code}: ${JSON.stringify(e.report)}`);
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const modes = [
    ["http", HTTP_URL],
    ["file", pathToFileURL(join(VERIFIER_DIR, "index.html")).href],
  ];
  try {
    for (const [mode, url] of modes) {
      const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      for (const c of CASES) {
        const label = `${mode}: ${c.name}`;
        const { page, w } = await openPage(desktop, mode, url);
        const got = await verifyOnPage(page, c);
        const e = expected.get(c.name);
        check(got.exit === String(e.code), `${label}: data-exit-code ${got.exit} = cli exit ${e.code}`);
        let report = null;
        try {
          report = JSON.parse(got.json);
        } catch (err) {
          bad(`${label}: #result-json parses`, `${err.message}: ${got.json && got.json.slice(0, 300)}`);
        }
        if (report) {
          const want = { ...e.report, file: c.file };
          report = report && typeof report === "object" ? { ...report, file: c.file } : report;
          const diff = firstDifference(report, want);
          check(diff === null, `${label}: report JSON = microcred verify --json`, diff);
        }
        check(/^\d+(\.\d+)?$/.test(got.ms || ""), `${label}: data-ms (${got.ms})`);
        check(got.checks > 0 && got.headline.trim() !== "" && got.live, `${label}: headline, checks table, in the live region`,
          JSON.stringify(got));
        if (c.source) check(c.source.test(got.source), `${label}: says where the credential came from`, got.source);
        if (c.fullReport) {
          check(got.full.split("\n").length > 12, `${label}: the full report shows the record's credentials`, got.full);
        }
        if (c.hostile) {
          const dom = await page.evaluate(() => ({
            imgs: document.querySelectorAll("img:not(.preview)").length,
            scripts: document.querySelectorAll("script").length,
            alerted: window.__alerted === true,
            subject: (document.querySelector("#result .subject") || {}).textContent || "",
          }));
          check(dom.imgs === 0 && dom.scripts === 2 && !dom.alerted && dom.subject.includes("<img src=x"),
            `${label}: markup in the credential is shown as text`, JSON.stringify(dom));
        }
        if (mode === "http" && c.shots) {
          const slug = c.name.replace(/\W+/g, "-");
          await page.screenshot({ path: join(OUT, `${slug}-desktop.png`), fullPage: true });
        }
        if (mode === "http" && c.timing) {
          const t = await timing(page);
          console.log(`timing: ${t.n} verifications of ${c.file} in Chromium: median ${t.median.toFixed(1)} ms, range ${t.min.toFixed(1)}-${t.max.toFixed(1)} ms (first: ${got.ms} ms)`);
          check(t.n === RUNS, `${label}: ${RUNS} re-verifications from the Check button`);
        }
        if (c.name === "valid") {
          // The browser's clock when no time is chosen.
          await page.fill("#opt-at", "");
          await page.click("#verify");
          await page.waitForFunction(() => {
            const r = document.getElementById("result");
            return r && !/the time you chose/.test(r.textContent);
          });
          const now = await page.evaluate(() => ({
            exit: document.getElementById("result").dataset.exitCode,
            json: document.getElementById("result-json").textContent,
          }));
          const validity = (JSON.parse(now.json).checks || []).find((k) => k.check === "validity");
          const year = String(new Date().getUTCFullYear());
          check(now.exit === "0" && validity && validity.reason.includes(year), `${label}: the browser's clock by default`, JSON.stringify(validity));
          const stored = await page.evaluate(async () => ({
            cookie: document.cookie,
            local: (() => { try { return localStorage.length; } catch (_) { return 0; } })(),
            session: (() => { try { return sessionStorage.length; } catch (_) { return 0; } })(),
            idb: indexedDB.databases ? (await indexedDB.databases().catch(() => [])).length : 0,
          }));
          check(stored.cookie === "" && stored.local === 0 && stored.session === 0 && stored.idb === 0,
            `${label}: nothing stored (cookies, storage)`, JSON.stringify(stored));
        }
        await watchersClean(page, w, label);
        await page.close();
      }

      // Evidence the module refuses is reported next to its input.
      {
        const { page, w } = await openPage(desktop, mode, url);
        await page.setInputFiles("#ev-trust", { name: "not-a-trust-list.json", mimeType: "application/json", buffer: Buffer.from("[1, 2") });
        const got = await verifyOnPage(page, CASES[0]);
        const msg = await page.textContent("#ev-trust-msg");
        check(got.exit === "0" && /not-a-trust-list\.json/.test(msg) && msg.length > 30,
          `${mode}: a refused trust list is explained next to its input`, `exit ${got.exit}, message: ${msg}`);
        await watchersClean(page, w, `${mode}: refused evidence`);
        await page.close();
      }

      // The other ways in: a file dropped on the drop zone, and pasted text.
      {
        const { page, w } = await openPage(desktop, mode, url);
        await page.fill("#opt-at", AT);
        const bytes = [...readFileSync(join(FIXTURES, "valid.json"))];
        await page.evaluate((b) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(b)], "dropped.json", { type: "application/json" }));
          const zone = document.getElementById("dropzone");
          zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
          zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
        }, bytes);
        await page.waitForSelector("#result[data-exit-code]");
        const dropped = await page.evaluate(() => [document.getElementById("result").dataset.exitCode, JSON.parse(document.getElementById("result-json").textContent)]);
        const wantValid = { ...expected.get("valid").report, file: "dropped.json" };
        check(dropped[0] === "0" && firstDifference(dropped[1], wantValid) === null, `${mode}: a dropped file is verified`,
          () => firstDifference(dropped[1], wantValid));
        const run = Number(await page.getAttribute("#result", "data-run"));
        await page.click("#paste-box > summary");
        await page.fill("#paste", readFileSync(join(FIXTURES, "tampered.json"), "utf8"));
        await page.click("#paste-verify");
        await page.waitForSelector(`#result[data-run="${run + 1}"]`);
        const pasted = await page.evaluate(() => [document.getElementById("result").dataset.exitCode, JSON.parse(document.getElementById("result-json").textContent)]);
        const wantTampered = { ...expected.get("tampered").report, file: "pasted.json" };
        check(pasted[0] === "1" && firstDifference(pasted[1], wantTampered) === null, `${mode}: pasted text is verified`,
          () => firstDifference(pasted[1], wantTampered));
        await watchersClean(page, w, `${mode}: drop and paste`);
        await page.close();
      }

      // connect-src 'none': the page cannot reach anything, not even the server it came from.
      {
        const { page } = await openPage(desktop, mode, url);
        const outcome = await page.evaluate(async (t) => {
          try {
            await fetch(t, { mode: "no-cors" });
            return "fetched";
          } catch (_) {
            return "refused";
          }
        }, HTTP_URL);
        await page.waitForTimeout(200);
        const events = await page.evaluate(() => window.__csp || []);
        const csp = await page.evaluate(() => (document.querySelector("meta[http-equiv=Content-Security-Policy]") || {}).content || "");
        check(outcome === "refused" && events.some((e) => e.startsWith("connect-src")) && /connect-src 'none'/.test(csp),
          `${mode}: fetch() is refused by the page's CSP (connect-src)`, `${outcome}; violations: ${events.join(", ")}; CSP: ${csp}`);
        await page.close();
      }
      await desktop.close();

      if (mode === "http") {
        const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
        for (const c of CASES.filter((k) => k.shots)) {
          const { page, w } = await openPage(phone, mode, url);
          const got = await verifyOnPage(page, c);
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          check(got.exit === String(expected.get(c.name).code) && width <= 390, `phone: ${c.name} fits 390 px (scrollWidth ${width})`);
          await page.screenshot({ path: join(OUT, `${c.name.replace(/\W+/g, "-")}-phone.png`), fullPage: true });
          await watchersClean(page, w, `phone: ${c.name}`);
          await page.close();
        }
        await phone.close();
      }
    }
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (e) {
  console.error(`verifier: setup failed: ${e && e.stack ? e.stack : e}`);
  console.log(`verifier: ${passed} passed, ${failed + 1} failed`);
  process.exit(2);
}
console.log(`verifier: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
