#!/usr/bin/env node
// Verifies credentials with the Digital Credentials Consortium's
// @digitalcredentials/verifier-core (the library behind DCC's VerifierPlus and
// Learner Credential Wallet), offline.
//
//   node verifier-core.mjs [--did-doc FILE]... [--status-list [URL=]FILE]...
//                          [--registry-issuer DID]... [--require-schema]
//                          [--vp [--challenge C]] [--json] FILE...
//
// For each FILE prints `OK FILE` or `FAIL FILE: reason`, then one line per
// step of verifier-core's result (`valid_signature`, `expiration`,
// `revocation_status`, `registered_issuer`, the `schema_check`
// additional information, fatal `errors`), and the URLs it asked for.
// Exit status 0 iff every file is OK, 1 if any is not, 2 on a usage error.
//
// A file is OK iff verifier-core returned no fatal `errors`, its log has
// `valid_signature` with valid: true, and every other log step has
// valid: true, except `registered_issuer`: valid: false there only means
// that the issuer is in none of the given issuer registries (by default none
// is given; --registry-issuer DID makes an offline registry that lists DID).
// `schema_check` (additionalInformation, not a step) is printed, never
// judged unless --require-schema is given: then every schema result must be
// valid (the schemas available offline are the VC 2.0 OB 3.0
// AchievementCredential and EndorsementCredential ones and the CLR 2.0
// ClrCredential one, fixtures/1edtech-schemas/).
//
// How it runs offline. verifier-core takes no document loader: Verify.js
// builds one when it is loaded,
//   const documentLoader = securityLoader({ fetchRemoteContexts: true }).build();
// (@digitalcredentials/security-document-loader: bundled VC 1/2, Data
// Integrity, Ed25519 2020, DID, DCC, status-list and OB 3.0 contexts,
// did:key offline, did:web and every other http(s) URL through
// @digitalcredentials/http-client, i.e. ky, i.e. globalThis.fetch). Its
// issuer registries (issuer-registry-client) and the OB JSON-schema check
// (schemaCheck.js) call globalThis.fetch too. So this script replaces
// globalThis.fetch, before it loads verifier-core, with a function that
// answers only from local files: JSON-LD contexts from the harness's offline
// loader table (loader.mjs, i.e. the repository's contexts/), DID documents
// given with --did-doc at their did:web URL, the OB 3.0 AchievementCredential
// JSON schema (fixtures/1edtech-schemas/), and the --registry-issuer
// registry. Every other request gets 404 Not Found and is listed in the
// output as blocked. Nothing in node_modules is changed.
//
// --status-list [URL=]FILE serves a saved BitstringStatusListCredential at
// URL (default: its `id`), so that verifier-core's revocation / suspension
// check (@digitalcredentials/vc-bitstring-status-list, which loads the list
// through the same loader, i.e. fetch) finds it. A credential with a
// credentialStatus is OK only if that check passes (not revoked/suspended).
//
// --vp: each FILE is a VerifiablePresentation, given to verifier-core's
// verifyPresentation({presentation, challenge}) (--challenge C; verifier-core's
// default is 'meaningless'). OK iff presentationResult.signature is 'valid'
// with no presentation errors and every credential result is OK as above.
import {readFileSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {contextMapping, CONTEXTS_DIR} from './loader.mjs';
import {errorText, readJson} from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  if(msg) {
    console.error(`verifier-core.mjs: ${msg}`);
  }
  console.error(
    'usage: node verifier-core.mjs [--did-doc FILE]... ' +
    '[--status-list [URL=]FILE]... [--registry-issuer DID]... ' +
    '[--require-schema] [--vp [--challenge C]] [--json] FILE...');
  process.exit(2);
}

const files = [];
const didDocs = new Map(); // https URL -> {text, file}
const registryIssuers = [];
const documents = new Map(); // URL -> {text, file, type}: --status-list
let asJson = false;
let vpMode = false;
let challenge;
let requireSchema = false;
const argv = process.argv.slice(2);
for(let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if(i + 1 >= argv.length) {
      usage(`${a} needs a value`);
    }
    return argv[++i];
  };
  if(a === '--did-doc') {
    const f = val();
    let text, doc;
    try {
      text = readFileSync(f, 'utf8');
      doc = JSON.parse(text);
    } catch(e) {
      usage(`--did-doc ${f}: ${e.code || e.message}`);
    }
    if(typeof doc.id !== 'string' || !doc.id.startsWith('did:web:')) {
      usage(`--did-doc ${f}: only did:web DID documents can be served ` +
        `(id is ${JSON.stringify(doc.id)})`);
    }
    didDocs.set(didWebUrl(doc.id), {text, file: f});
  } else if(a === '--status-list') {
    const arg = val();
    const m = /^(https?:\/\/[^=]+)=(.+)$/.exec(arg);
    const f = m ? m[2] : arg;
    let text, doc;
    try {
      text = readFileSync(f, 'utf8');
      doc = JSON.parse(text);
    } catch(e) {
      usage(`--status-list ${f}: ${e.code || e.message}`);
    }
    const url = m ? m[1] : doc.id;
    if(typeof url !== 'string' || !/^https?:\/\//.test(url)) {
      usage(`--status-list ${f}: its id is not an http(s) URL; give URL=FILE`);
    }
    documents.set(url, {text, file: f, type: 'application/vc+ld+json'});
  } else if(a === '--vp') {
    vpMode = true;
  } else if(a === '--challenge') {
    challenge = val();
  } else if(a === '--registry-issuer') {
    registryIssuers.push(val());
  } else if(a === '--require-schema') {
    requireSchema = true;
  } else if(a === '--json') {
    asJson = true;
  } else if(a === '-h' || a === '--help') {
    usage();
  } else if(a.startsWith('-') && a !== '-') {
    usage(`unknown option ${a}`);
  } else {
    files.push(a);
  }
}
if(files.length === 0) {
  usage('no FILE given');
}

/** did:web DID -> the https URL of its DID document (did:web method spec,
 * as @digitalcredentials/did-method-web computes it). */
function didWebUrl(did) {
  const [domain, ...path] = did.slice('did:web:'.length).split(':');
  const host = decodeURIComponent(domain);
  return path.length ?
    `https://${host}/${path.map(decodeURIComponent).join('/')}/did.json` :
    `https://${host}/.well-known/did.json`;
}

// ------------------------------------------------------------ offline fetch
const REGISTRY_URL = 'https://issuer-registry.interop.invalid/registry.json';
// 1EdTech JSON schemas that verifier-core's schema check asks for, as copied
// into fixtures/1edtech-schemas/ (see fixtures/SOURCES.md)
const SCHEMA_DIR = join(HERE, 'fixtures', '1edtech-schemas');
const SCHEMAS = {
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json':
    join(SCHEMA_DIR, 'ob_v3p0_achievementcredential_schema.json'),
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json':
    join(SCHEMA_DIR, 'ob_v3p0_endorsementcredential_schema.json'),
  'https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json':
    join(SCHEMA_DIR, 'clr_v2p0_clrcredential_schema.json')
};
const requests = []; // {url, served} for the file being verified
const {map: contextMap} = contextMapping();
const response = (text, type, status = 200) =>
  new Response(text, {status, headers: {'content-type': type}});

async function offlineFetch(input, init) {
  const url = typeof input === 'string' ? input :
    input instanceof URL ? input.href : input.url;
  const method = ((init && init.method) ||
    (typeof input === 'object' && input.method) || 'GET').toUpperCase();
  if(method === 'GET') {
    if(contextMap[url]) {
      requests.push({url,
        served: `published-contexts/${relative(CONTEXTS_DIR, contextMap[url])}`});
      return response(readFileSync(contextMap[url], 'utf8'),
        'application/ld+json');
    }
    const doc = documents.get(url);
    if(doc) {
      requests.push({url, served: doc.file});
      return response(doc.text, doc.type);
    }
    const did = didDocs.get(url.split(/[?#]/)[0]);
    if(did) {
      requests.push({url, served: did.file});
      return response(did.text, 'application/did+json');
    }
    if(SCHEMAS[url]) {
      requests.push({url, served: SCHEMAS[url]});
      return response(readFileSync(SCHEMAS[url], 'utf8'), 'application/json');
    }
    if(url === REGISTRY_URL) {
      requests.push({url, served: '--registry-issuer'});
      const registry = {};
      for(const d of registryIssuers) {
        registry[d] = {name: `offline test entry for ${d}`,
          url: 'https://issuer.example', location: 'nowhere'};
      }
      return response(
        JSON.stringify({name: 'interop offline registry', registry}),
        'application/json');
    }
  }
  requests.push({url, served: null});
  // not served here: answer 404 Not Found, as a web server would for a
  // missing file (so verifier-core reports e.g. did_web_unresolved rather
  // than mistaking a network error for a bad signature)
  return response(`offline: ${method} ${url} is not served locally`,
    'text/plain', 404);
}
globalThis.fetch = offlineFetch;

// verifier-core prints registry / schema errors with console.log and
// console.error; keep them out of the report (shown under `console:`)
const captured = [];
const realLog = console.log;
const realError = console.error;
const realWarn = console.warn;
function capture(on) {
  if(on) {
    console.log = (...a) => captured.push(a.map(x => (x instanceof Error ?
      x.message : typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
    console.error = console.log;
    console.warn = console.log;
  } else {
    console.log = realLog;
    console.error = realError;
    console.warn = realWarn;
  }
}

const {verifyCredential, verifyPresentation} =
  await import('@digitalcredentials/verifier-core');
const knownDIDRegistries = registryIssuers.length ?
  [{name: 'interop offline registry', type: 'dcc-legacy', url: REGISTRY_URL}] :
  [];

// log steps whose valid: false is accepted (not a failure of the credential)
const ACCEPTED_FALSE = new Set(['registered_issuer']);

function judge(result) {
  const problems = [];
  if(result.errors && result.errors.length) {
    problems.push(...result.errors.map(e =>
      `${e.name || 'error'}: ${e.message || errorText(e)}`));
  }
  const log = result.log || [];
  const sig = log.find(s => s.id === 'valid_signature');
  if(!sig) {
    if(!problems.length) {
      problems.push('no valid_signature step');
    }
  } else if(sig.valid !== true) {
    problems.push('valid_signature: false');
  }
  for(const step of log) {
    if(step.id === 'valid_signature' || ACCEPTED_FALSE.has(step.id)) {
      continue;
    }
    if(step.valid !== true) {
      problems.push(`${step.id}: ${step.error ?
        `${step.error.name}: ${step.error.message}` : `valid ${step.valid}`}`);
    }
  }
  if(requireSchema && !problems.length) {
    const info = (result.additionalInformation || [])
      .find(x => x.id === 'schema_check');
    const r = info && info.results;
    if(!Array.isArray(r) || !r.length) {
      problems.push(`schema_check: ${r || 'missing'}`);
    } else {
      for(const x of r.filter(x => !x.result || x.result.valid !== true)) {
        problems.push(`schema_check: ${x.schema} invalid: ` +
          JSON.stringify((x.result && x.result.errors || []).slice(0, 3)));
      }
    }
  }
  return problems;
}

function judgePresentation(result) {
  const problems = [];
  if(result.errors && result.errors.length) {
    problems.push(...result.errors.map(e =>
      `${e.name || 'error'}: ${e.message || errorText(e)}`));
  }
  const pr = result.presentationResult;
  if(pr) {
    if(pr.signature !== 'valid') {
      problems.push(`presentation signature: ${pr.signature}`);
    }
    for(const e of pr.errors || []) {
      problems.push(`presentation: ${e.name}: ${e.message}`);
    }
  } else if(!problems.length) {
    problems.push('no presentationResult');
  }
  (result.credentialResults || []).forEach((cr, i) => {
    for(const p of judge(cr)) {
      problems.push(`credential ${i}: ${p}`);
    }
  });
  return problems;
}

function stepLines(result) {
  if(vpMode) {
    const lines = [];
    const pr = result.presentationResult;
    if(pr) {
      lines.push(`presentation signature: ${pr.signature}`);
      for(const e of pr.errors || []) {
        lines.push(`presentation error ${e.name}: ${e.message}`);
      }
    }
    (result.credentialResults || []).forEach((cr, i) => {
      lines.push(`credential ${i}:`);
      lines.push(...credentialStepLines(cr).map(l => `  ${l}`));
    });
    for(const e of result.errors || []) {
      lines.push(`error ${e.name}: ${e.message || ''}`.trim());
    }
    return lines;
  }
  return credentialStepLines(result);
}

function credentialStepLines(result) {
  const lines = [];
  for(const step of result.log || []) {
    let text = `${step.id}: ${step.valid === undefined ? '?' : step.valid}`;
    if(step.id === 'registered_issuer') {
      const names = (step.matchingIssuers || []).map(m =>
        m.registry?.federation_entity?.organization_name || m.registry?.name);
      text += step.valid ? ` (in ${names.join(', ')})` :
        (knownDIDRegistries.length ? ' (issuer not in the registry; accepted)' :
          ' (no registry given, so not in any; accepted)');
      if((step.uncheckedRegistries || []).length) {
        text += `; unchecked: ${step.uncheckedRegistries.map(r => r.url)}`;
      }
    }
    if(step.error) {
      text += ` (${step.error.name}: ${step.error.message})`;
    }
    lines.push(text);
  }
  for(const info of result.additionalInformation || []) {
    if(info.id === 'schema_check') {
      const r = info.results;
      lines.push(`schema_check${requireSchema ? '' : ' (not judged)'}: ${
        Array.isArray(r) ?
        r.map(x => `${x.schema} valid=${x.result?.valid}`).join('; ') : r}`);
    }
  }
  for(const e of result.errors || []) {
    lines.push(`error ${e.name}: ${e.message || ''}`.trim());
  }
  return lines;
}

let failed = 0;
for(const file of files) {
  requests.length = 0;
  captured.length = 0;
  let result, problems;
  try {
    const {json} = readJson(file);
    capture(true);
    try {
      result = vpMode ?
        await verifyPresentation({presentation: json, knownDIDRegistries,
          ...(challenge === undefined ? {} : {challenge})}) :
        await verifyCredential({credential: json, knownDIDRegistries});
    } finally {
      capture(false);
    }
    if(vpMode && result.presentationResult) {
      for(const e of result.presentationResult.errors || []) {
        e.message = errorText(e.message);
      }
    }
    problems = vpMode ? judgePresentation(result) : judge(result);
  } catch(e) {
    result = {};
    problems = [errorText(e)];
  }
  if(problems.length) {
    failed++;
  }
  if(asJson) {
    const {credential, ...rest} = result;
    for(const e of rest.errors || []) {
      delete e.stackTrace;
    }
    for(const cr of rest.credentialResults || []) {
      delete cr.credential;
    }
    console.log(JSON.stringify({file, ok: problems.length === 0, problems,
      ...rest, requests: [...requests]}));
    continue;
  }
  console.log(problems.length ? `FAIL ${file}: ${problems.join('; ')}` :
    `OK ${file}`);
  for(const line of stepLines(result)) {
    console.log(`  ${line}`);
  }
  const blocked = requests.filter(r => !r.served).map(r => r.url);
  const served = requests.filter(r => r.served).map(r => r.url);
  if(served.length) {
    console.log(`  served locally: ${[...new Set(served)].join(' ')}`);
  }
  if(blocked.length) {
    console.log(`  blocked (offline): ${[...new Set(blocked)].join(' ')}`);
  }
  for(const c of new Set(captured)) {
    console.log(`  console: ${c.replace(/\s+/g, ' ').slice(0, 300)}`);
  }
}
process.exitCode = failed ? 1 : 0;
