// Offline JSON-LD document loader for the interop harness: what a verifier
// in the field can load, and nothing else.
//
// * JSON-LD contexts come only from tests/interop/published-contexts/: the
//   contexts their publishers serve at their URLs (W3C, 1EdTech), taken from
//   the publishers' npm packages or as byte copies with their source recorded
//   (published-contexts/SOURCES.md, checked by published-contexts.mjs). The
//   URL -> file table is published-contexts/index.json ($INTEROP_CONTEXTS_INDEX
//   names another index.json). microcred's own bundle (contexts/) is NOT used:
//   a field verifier does not have it, so a credential naming a context that
//   nobody serves must fail here as it fails there.
// * A context that is not published can be given explicitly with
//   addContext() / --context URL=FILE (the JS *signing* side, sign.mjs, and
//   verify.mjs where a check says so, as a verifier configured by hand).
// * `did:key:` DIDs and DID URLs resolve to a DID document built offline by
//   @digitalbazaar/did-method-key (Ed25519 Multikey only).
// * Other DIDs (e.g. `did:web:`) resolve only to DID documents given as files
//   (addDidDocumentFile(), verify.mjs --did-doc, or $INTEROP_DID_DOCS, a list
//   of files separated like $PATH); a DID URL with a fragment gives the node
//   of that id (with the DID document's @context).
// * Other documents (e.g. a status list credential at its URL) only when given
//   with addDocumentFile() (verify.mjs --status-list FILE).
// * Anything else throws an error that names the URL. Nothing is ever fetched.
//
// CLI (for debugging the table):
//   node loader.mjs --list          print the URL -> file table
//   node loader.mjs --check         load every mapped file, exit 1 if any is
//                                   missing or not a JSON-LD context
//   node loader.mjs [--did-doc FILE]... URL...
//                                   print what the loader returns for URL
import {readFileSync, existsSync} from 'node:fs';
import {delimiter, dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as DidKey from '@digitalbazaar/did-method-key';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The published contexts' index.json ({URL: file}, files relative to it). */
export const CONTEXTS_INDEX = resolve(process.env.INTEROP_CONTEXTS_INDEX ||
  join(HERE, 'published-contexts', 'index.json'));
export const CONTEXTS_DIR = dirname(CONTEXTS_INDEX);

let _mapping;
/** The URL -> absolute file table in force (index.json), as {map,
 * conflicts}; conflicts is always empty (kept for callers). */
export function contextMapping() {
  if(_mapping) {
    return _mapping;
  }
  let index;
  try {
    index = JSON.parse(readFileSync(CONTEXTS_INDEX, 'utf8'));
  } catch(e) {
    throw new Error(`cannot read the published contexts' index ` +
      `${CONTEXTS_INDEX}: ${e.code || e.message}`);
  }
  const map = {};
  for(const [url, file] of Object.entries(index)) {
    map[url] = resolve(CONTEXTS_DIR, file);
  }
  _mapping = {map, conflicts: []};
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

// URL -> {document, source}: other documents given as files, e.g. a status
// list credential, served at its URL (its `id` unless given as URL=FILE)
const _documents = new Map();

/** Serves the JSON document in FILE at URL (default: the document's `id`);
 * ARG is FILE or URL=FILE. Returns the URL. */
export function addDocumentFile(arg) {
  let url, file = arg;
  const m = /^(https?:\/\/[^=]+)=(.+)$/.exec(arg);
  if(m) {
    [, url, file] = m;
  }
  let document;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch(e) {
    throw new Error(`${file}: ${e.code || e.message}`);
  }
  url = url || document.id;
  if(typeof url !== 'string' || !/^https?:\/\//.test(url)) {
    throw new Error(`${file}: no URL to serve it at (give URL=FILE)`);
  }
  _documents.set(url, {document, source: file});
  return url;
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
  if(_documents.has(url)) {
    const {document} = _documents.get(url);
    return {contextUrl: null, documentUrl: url,
      document: structuredClone(document)};
  }
  const {map} = contextMapping();
  const file = _extra.get(url) || map[url];
  if(!file) {
    throw new Error(
      `offline loader: ${url} is not a published context (not in ` +
      `${CONTEXTS_INDEX}) nor given with --context URL=FILE; never fetched`);
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
  const {map} = contextMapping();
  if(args[0] === '--list' || args.length === 0) {
    console.log(`published contexts: ${CONTEXTS_INDEX}`);
    for(const [url, file] of Object.entries(map)) {
      const state = existsSync(file) ? '' : '  (missing)';
      console.log(`${url} -> ${relative(CONTEXTS_DIR, file)}${state}`);
    }
  } else if(args[0] === '--check') {
    let bad = 0;
    for(const [url, file] of Object.entries(map)) {
      if(!existsSync(file)) {
        bad++;
        console.log(`MISSING ${url} -> ${file}`);
        continue;
      }
      try {
        loadContextFile(url, file);
        console.log(`OK ${url} -> ${relative(CONTEXTS_DIR, file)}`);
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
