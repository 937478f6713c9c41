// Offline JSON-LD document loader for the interop harness.
//
// * JSON-LD contexts are served from the repository's pinned copies in
//   `contexts/` (../../contexts relative to this file; override with
//   $MICROCRED_CONTEXTS_DIR). The URL -> file table is CONTEXT_TABLE below,
//   extended by rows of `contexts/SOURCES.md` that name exactly one file of
//   that folder together with one or more context URLs.
// * `did:key:` DIDs and DID URLs resolve to a DID document built offline by
//   @digitalbazaar/did-method-key (Ed25519 Multikey only).
// * Other DIDs (e.g. `did:web:`) resolve only to DID documents given as files
//   (addDidDocumentFile(), verify.mjs --did-doc, or $INTEROP_DID_DOCS, a list
//   of files separated like $PATH); a DID URL with a fragment gives the node
//   of that id (with the DID document's @context).
// * Anything else throws an error that names the URL. Nothing is ever fetched.
//
// CLI (for debugging the table):
//   node loader.mjs --list          print the URL -> file table
//   node loader.mjs --check         load every mapped file, exit 1 if any is
//                                   missing or not a JSON-LD context
//   node loader.mjs [--did-doc FILE]... URL...
//                                   print what the loader returns for URL
import {readFileSync, existsSync, readdirSync} from 'node:fs';
import {delimiter, dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as DidKey from '@digitalbazaar/did-method-key';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CONTEXTS_DIR = resolve(
  process.env.MICROCRED_CONTEXTS_DIR || join(HERE, '..', '..', 'contexts'));

// URL -> file name in CONTEXTS_DIR: the same rows as the Rust loader
// (crates/microcred-rdf/src/loader.rs). Add a row here when a credential needs
// a new context; SOURCES.md rows can add more without touching this file.
export const CONTEXT_TABLE = Object.freeze({
  // W3C VC Data Model
  'https://www.w3.org/2018/credentials/v1': 'credentials-v1.jsonld',
  'https://w3id.org/credentials/v1': 'credentials-v1.jsonld',
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2':
    'credentials-examples-v2.jsonld',
  // W3C Data Integrity / Multikey / Controlled Identifiers / DID core
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/data-integrity/v1': 'data-integrity-v1.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/cid/v1': 'cid-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
  'https://w3id.org/security/suites/ed25519-2020/v1':
    'ed25519-signature-2020-v1.jsonld',
  'https://w3id.org/security/v1': 'security-v1.jsonld',
  'https://w3id.org/security/v2': 'security-v2.jsonld',
  'https://w3id.org/vc/status-list/2021/v1': 'vc-status-list-2021-v1.jsonld',
  // 1EdTech Open Badges 3.0 and its extensions
  'https://purl.imsglobal.org/spec/ob/v3p0/context.json':
    'ob-context-3.0.0.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld':
    'ob-context-3.0.0.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json':
    'ob-context-3.0.1.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json':
    'ob-context-3.0.2.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json':
    'ob-context-3.0.3.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json':
    'ob-v3p0-extensions.json',
  'https://purl.imsglobal.org/spec/ob-assessment/v2p0/context/':
    'ob-assessment-v2p0.json',
  'https://purl.imsglobal.org/spec/ob-assessment/v2p0/context':
    'ob-assessment-v2p0.json',
  'https://purl.imsglobal.org/spec/ob-accred/v2p0/context/':
    'ob-accred-v2p0.json',
  'https://purl.imsglobal.org/spec/ob-accred/v2p0/context':
    'ob-accred-v2p0.json',
  'https://openbadgespec.org/extensions/accessibilityExtension/context-3.0.0.json':
    'ob-ext-accessibility-3.0.0.json',
  'https://openbadgespec.org/extensions/applyLinkExtension/context-3.0.0.json':
    'ob-ext-applylink-3.0.0.json',
  'https://openbadgespec.org/extensions/geoCoordinatesExtension/context-3.0.0.json':
    'ob-ext-geocoordinates-3.0.0.json',
  'https://openbadgespec.org/extensions/licenseExtension/context-3.0.0.json':
    'ob-ext-license-3.0.0.json',
  // 1EdTech Comprehensive Learner Record 2.0
  'https://purl.imsglobal.org/spec/clr/v2p0/context.json':
    'clr-context-2.0.0.json',
  'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json':
    'clr-context-2.0.1.json',
  // this project's microcredential extension (placeholder URL)
  'https://microcredential.example/ns/v1/context.json': 'microcred-v1.jsonld',
});

const SOURCE_URL_RE = /https?:\/\/[^\s|`'"<>()[\]]+/g;
// hosts that name where a file was copied from, never a context URL
const NOT_CONTEXT_HOSTS = /^https?:\/\/(github\.com|raw\.githubusercontent\.com|gitlab\.com)\//;

function listContextFiles() {
  try {
    return new Set(readdirSync(CONTEXTS_DIR));
  } catch {
    return new Set();
  }
}

/** Parses contexts/SOURCES.md (any layout): a line that names exactly one
 * file of the contexts folder maps every non-repository URL on that line to
 * that file. Returns {map, conflicts}. */
export function parseSourcesMd(text, files = listContextFiles()) {
  const map = {};
  const conflicts = [];
  const fileRes = [...files].map(f => [f, new RegExp(
    `(^|[\\s|\`/(\\[])${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` +
    '($|[\\s|`)\\],;:])')]);
  for(const line of text.split(/\r?\n/)) {
    const named = fileRes.filter(([, re]) => re.test(line)).map(([f]) => f);
    if(named.length !== 1) {
      continue;
    }
    const file = named[0];
    const urls = (line.match(SOURCE_URL_RE) || [])
      .map(u => u.replace(/[.,;:]+$/, ''))
      .filter(u => !NOT_CONTEXT_HOSTS.test(u));
    for(const url of urls) {
      if(map[url] && map[url] !== file) {
        conflicts.push(
          `${url}: SOURCES.md names both ${map[url]} and ${file}`);
        continue;
      }
      map[url] = file;
    }
  }
  return {map, conflicts};
}

let _mapping;
/** The URL -> file table in force: CONTEXT_TABLE, plus SOURCES.md rows for
 * URLs the table lacks. Where both name a file that exists and they differ,
 * the table wins and a conflict is reported; where the table's file does not
 * exist, SOURCES.md's file is used. */
export function contextMapping() {
  if(_mapping) {
    return _mapping;
  }
  const map = {...CONTEXT_TABLE};
  const conflicts = [];
  const sources = join(CONTEXTS_DIR, 'SOURCES.md');
  if(existsSync(sources)) {
    const files = listContextFiles();
    const parsed = parseSourcesMd(readFileSync(sources, 'utf8'), files);
    conflicts.push(...parsed.conflicts);
    for(const [url, file] of Object.entries(parsed.map)) {
      const known = map[url];
      if(!known || known === file) {
        map[url] = file;
      } else if(!files.has(known)) {
        map[url] = file;
      } else {
        conflicts.push(
          `${url}: loader table says ${known}, SOURCES.md says ${file}`);
      }
    }
  }
  _mapping = {map, conflicts};
  return _mapping;
}

// URL -> absolute path: contexts given on the command line (--context)
const _extra = new Map();

/** Adds a JSON-LD context that is not in the table (like microcred's
 * `--context URL=FILE`): URL is served from FILE. */
export function addContext(url, file) {
  const path = resolve(file);
  if(!existsSync(path)) {
    throw new Error(`--context ${url}=${file}: no such file`);
  }
  _extra.set(url, path);
  loadContextFile(url, path);
}

/** Parses URL=FILE (the URL may itself contain "="; the last one splits). */
export function addContextArg(arg) {
  const i = arg.lastIndexOf('=');
  if(i <= 0 || i === arg.length - 1) {
    throw new Error(`--context wants URL=FILE, got ${JSON.stringify(arg)}`);
  }
  addContext(arg.slice(0, i), arg.slice(i + 1));
}

const _cache = new Map();
function loadContextFile(url, file) {
  if(_cache.has(file)) {
    return _cache.get(file);
  }
  const path = resolve(CONTEXTS_DIR, file); // an absolute `file` wins
  if(!existsSync(path)) {
    throw new Error(
      `offline loader: context ${url} maps to ${path}, which does not exist`);
  }
  let doc;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch(e) {
    throw new Error(
      `offline loader: context ${url} -> ${path} is not valid JSON ` +
      `(${e.message})`);
  }
  if(!(doc && typeof doc === 'object' && !Array.isArray(doc) &&
    '@context' in doc)) {
    throw new Error(
      `offline loader: context ${url} -> ${path} has no top-level "@context"`);
  }
  _cache.set(file, doc);
  return doc;
}

let _didKeyDriver;
function didKeyDriver() {
  if(!_didKeyDriver) {
    _didKeyDriver = DidKey.driver();
    _didKeyDriver.use({
      multibaseMultikeyHeader: 'z6Mk',
      fromMultibase: Ed25519Multikey.from
    });
  }
  return _didKeyDriver;
}

/** Resolves a did:key DID (-> DID document) or DID URL (-> verification
 * method) offline. */
export async function resolveDidKey(url) {
  try {
    return await didKeyDriver().get({url});
  } catch(e) {
    throw new Error(`offline loader: cannot resolve ${url}: ${e.message}`);
  }
}

// DID -> {document, source}: DID documents given as files
const _didDocs = new Map();

/** Registers a saved DID document (e.g. a did:web issuer's did.json) so that
 * its DID and the DID URLs of its nodes resolve offline. */
export function addDidDocument(doc, source = '(in memory)') {
  if(!(doc && typeof doc === 'object' && typeof doc.id === 'string' &&
    doc.id.startsWith('did:'))) {
    throw new Error(`${source}: not a DID document (no "id" that is a DID)`);
  }
  const known = _didDocs.get(doc.id);
  if(known && JSON.stringify(known.document) !== JSON.stringify(doc)) {
    throw new Error(
      `${source}: a different DID document for ${doc.id} was given ` +
      `(${known.source})`);
  }
  _didDocs.set(doc.id, {document: doc, source});
  return doc.id;
}

export function addDidDocumentFile(path) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch(e) {
    throw new Error(`--did-doc ${path}: ${e.code || e.message}`);
  }
  return addDidDocument(doc, path);
}

for(const f of (process.env.INTEROP_DID_DOCS || '').split(delimiter)) {
  if(f) {
    addDidDocumentFile(f);
  }
}

/** The node of `id` in a DID document: a verification method (also one
 * embedded under a verification relationship), or a service. */
function didDocumentNode(doc, id) {
  const rel = x => (typeof x === 'string' ? null : x);
  const candidates = [
    ...[].concat(doc.verificationMethod || []),
    ...['assertionMethod', 'authentication', 'capabilityInvocation',
      'capabilityDelegation', 'keyAgreement']
      .flatMap(k => [].concat(doc[k] || []).map(rel).filter(Boolean)),
    ...[].concat(doc.service || [])
  ];
  const abs = x => (typeof x === 'string' && x.startsWith('#') ?
    doc.id + x : x);
  const node = candidates.find(n => n && abs(n.id) === id);
  if(!node) {
    return null;
  }
  return {'@context': doc['@context'], ...node, id};
}

/** Resolves a DID or DID URL from the DID documents given as files. */
export function resolveDidFromFiles(url) {
  const [did] = url.split(/[?#]/);
  const entry = _didDocs.get(did);
  if(!entry) {
    return null;
  }
  if(url === did) {
    return structuredClone(entry.document);
  }
  const node = didDocumentNode(entry.document, url);
  if(!node) {
    throw new Error(
      `offline loader: the DID document of ${did} (${entry.source}) has no ` +
      `node ${url}`);
  }
  return structuredClone(node);
}

/** jsonld.js-style document loader: (url) => {contextUrl, documentUrl,
 * document}. Never touches the network. */
export async function documentLoader(url) {
  if(typeof url !== 'string') {
    throw new TypeError(`offline loader: URL must be a string, got ${url}`);
  }
  if(url.startsWith('did:')) {
    const fromFile = resolveDidFromFiles(url);
    if(fromFile) {
      return {contextUrl: null, documentUrl: url, document: fromFile};
    }
  }
  if(url.startsWith('did:key:')) {
    const document = await resolveDidKey(url);
    return {contextUrl: null, documentUrl: url, document};
  }
  if(url.startsWith('did:')) {
    throw new Error(
      `offline loader: no DID document for ${url} (did:key resolves ` +
      'offline; for any other DID method give its DID document as a file: ' +
      '--did-doc FILE or $INTEROP_DID_DOCS)');
  }
  const {map} = contextMapping();
  const file = _extra.get(url) || map[url];
  if(!file) {
    throw new Error(
      `offline loader: unknown URL ${url} (not in the context table of ` +
      'tests/interop/loader.mjs nor in contexts/SOURCES.md; never fetched)');
  }
  // a copy, so that no caller can change the cached context
  const document = structuredClone(loadContextFile(url, file));
  return {contextUrl: null, documentUrl: url, document};
}

export default documentLoader;

// ---------------------------------------------------------------- CLI
if(process.argv[1] &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  while(args[0] === '--did-doc' && args.length > 1) {
    addDidDocumentFile(args[1]);
    args.splice(0, 2);
  }
  const {map, conflicts} = contextMapping();
  for(const c of conflicts) {
    console.error(`warning: context mapping conflict: ${c}`);
  }
  if(args[0] === '--list' || args.length === 0) {
    console.log(`contexts folder: ${CONTEXTS_DIR}`);
    for(const [url, file] of Object.entries(map)) {
      const state = existsSync(join(CONTEXTS_DIR, file)) ? '' : '  (missing)';
      console.log(`${url} -> ${file}${state}`);
    }
  } else if(args[0] === '--check') {
    let bad = 0;
    for(const [url, file] of Object.entries(map)) {
      if(!existsSync(join(CONTEXTS_DIR, file))) {
        console.log(`MISSING ${url} -> ${file}`);
        continue;
      }
      try {
        loadContextFile(url, file);
        console.log(`OK ${url} -> ${file}`);
      } catch(e) {
        bad++;
        console.log(`FAIL ${e.message}`);
      }
    }
    process.exitCode = bad ? 1 : 0;
  } else {
    for(const url of args) {
      try {
        const r = await documentLoader(url);
        console.log(JSON.stringify(r.document, null, 2));
      } catch(e) {
        console.error(e.message);
        process.exitCode = 1;
      }
    }
  }
}
