// Shared helpers for the wallet scripts (oid4vci.mjs, vcapi.mjs, run.sh).
//
// * Holder keys: Ed25519 from Node's crypto; did:key (multicodec 0xed01,
//   base58btc, our own encoder) and did:jwk identifiers for them.
// * Compact JWS signing (EdDSA) with Node's crypto, for OID4VCI key proofs.
// * A tiny argument parser, JSON file output, HTTP helpers.
// * An offline JSON-LD document loader: contexts ONLY from
//   ../interop/published-contexts/ (the contexts their publishers serve; never
//   the repository's contexts/ folder, never the network), did:key resolved
//   offline with @digitalbazaar/did-method-key.
//
// CLI (used by run.sh):
//   node lib.mjs bound DID FILE...   exit 0 iff every FILE's credentialSubject
//                                    (each one, if an array) has id === DID
import {
  createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign
} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- encoding

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** base58btc (Bitcoin alphabet) of a byte array. */
export function base58btc(bytes) {
  const digits = [0];
  for(const byte of bytes) {
    let carry = byte;
    for(let i = 0; i < digits.length; i++) {
      carry += digits[i] << 8;
      digits[i] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while(carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '';
  for(const byte of bytes) { // leading zero bytes -> '1'
    if(byte !== 0) {
      break;
    }
    out += '1';
  }
  for(let i = digits.length - 1; i >= 0; i--) {
    out += B58[digits[i]];
  }
  // an all-zero input gives one extra '1' from digits=[0]; trim it
  if(bytes.length > 0 && bytes.every(b => b === 0)) {
    out = out.slice(0, bytes.length);
  }
  return out;
}

export const b64url = buf => Buffer.from(buf).toString('base64url');
export const b64urlJson = obj => b64url(Buffer.from(JSON.stringify(obj)));

// ---------------------------------------------------------------- holder key

/**
 * A fresh Ed25519 holder key (Node crypto) with its identifiers.
 * method 'key' -> did:key:z6Mk...#z6Mk...; 'jwk' -> did:jwk:...#0.
 * Returns {did, kid, method, publicJwk, privateKey, publicKeyMultibase,
 *          signJws(header, payload) -> compact JWS}.
 */
export function makeHolder({method = 'key', privateJwk} = {}) {
  let privateKey;
  if(privateJwk) {
    privateKey = createPrivateKey({key: privateJwk, format: 'jwk'});
  } else {
    ({privateKey} = generateKeyPairSync('ed25519'));
  }
  const publicJwk = createPublicKey(privateKey).export({format: 'jwk'});
  const raw = Buffer.from(publicJwk.x, 'base64url');
  if(raw.length !== 32) {
    throw new Error('expected a 32-byte Ed25519 public key');
  }
  const publicKeyMultibase =
    'z' + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
  let did;
  let kid;
  if(method === 'key') {
    did = `did:key:${publicKeyMultibase}`;
    kid = `${did}#${publicKeyMultibase}`;
  } else if(method === 'jwk') {
    did = `did:jwk:${b64urlJson(
      {crv: 'Ed25519', kty: 'OKP', x: publicJwk.x})}`;
    kid = `${did}#0`;
  } else {
    throw new Error(`unknown DID method ${method} (key or jwk)`);
  }
  const signJws = (header, payload) => {
    const input = `${b64urlJson(header)}.${b64urlJson(payload)}`;
    const sig = sign(null, Buffer.from(input), privateKey);
    return `${input}.${b64url(sig)}`;
  };
  return {
    did, kid, method, publicJwk, privateKey, publicKeyMultibase, signJws,
    privateJwk: privateKey.export({format: 'jwk'})
  };
}

/** Decodes a compact JWS without verifying it: {header, payload}. */
export function decodeJws(jws) {
  const [h, p] = jws.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString())
  };
}

export const randomToken = (n = 16) => randomBytes(n).toString('base64url');

// ---------------------------------------------------------------- CLI bits

/**
 * Parses argv against a spec {name: 'string'|'bool'|'list'}; returns an
 * object keyed by camelCase names. Unknown options or missing values throw.
 */
export function parseArgs(argv, spec) {
  const out = {};
  for(const [k, t] of Object.entries(spec)) {
    if(t === 'list') {
      out[camel(k)] = [];
    }
  }
  for(let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if(!a.startsWith('--')) {
      throw new Error(`unexpected argument ${a}`);
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const t = spec[name];
    if(!t) {
      throw new Error(`unknown option --${name}`);
    }
    if(t === 'bool') {
      out[camel(name)] = true;
      continue;
    }
    let v;
    if(eq > 0) {
      v = a.slice(eq + 1);
    } else {
      v = argv[++i];
      if(v === undefined) {
        throw new Error(`--${name} needs a value`);
      }
    }
    if(t === 'list') {
      out[camel(name)].push(v);
    } else {
      out[camel(name)] = v;
    }
  }
  return out;
}
const camel = s => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

export function writeJson(dir, name, value) {
  mkdirSync(dir, {recursive: true});
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
  return file;
}

export const readJson = file => JSON.parse(readFileSync(file, 'utf8'));

/** A wallet-side failure whose `code` is the server's OAuth error code. */
export class ServerError extends Error {
  constructor(stage, status, body, request) {
    const code = body && typeof body === 'object' ? body.error : undefined;
    super(`${stage}: HTTP ${status}` + (code ? ` ${code}` : '') +
      (body && typeof body === 'object' && body.error_description ?
        ` (${body.error_description})` : '') +
      (typeof body === 'string' && body ? `: ${body.slice(0, 300)}` : ''));
    this.stage = stage;
    this.status = status;
    this.body = body;
    this.code = code;
    this.request = request;
  }
}

/** fetch + JSON (or text) body; never throws on HTTP status. */
export async function http(url, {method = 'GET', headers = {}, body} = {}) {
  const res = await fetch(url, {method, headers, body, redirect: 'manual'});
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch{
    json = undefined;
  }
  return {status: res.status, headers: res.headers, text, json};
}

export function bound(did, credential) {
  const subjects = [].concat(credential?.credentialSubject ?? []);
  return subjects.length > 0 && subjects.every(s => s && s.id === did);
}

// ---------------------------------------------------------------- JSON-LD

/** The published contexts (URL -> file) from ../interop/published-contexts. */
export const CONTEXTS_INDEX =
  resolve(HERE, '..', 'interop', 'published-contexts', 'index.json');

let _contexts;
function contexts() {
  if(!_contexts) {
    const index = readJson(CONTEXTS_INDEX);
    _contexts = new Map();
    for(const [url, file] of Object.entries(index)) {
      _contexts.set(url, resolve(dirname(CONTEXTS_INDEX), file));
    }
  }
  return _contexts;
}
const _loaded = new Map();

/**
 * An offline documentLoader: published contexts and did:key only. Anything
 * else throws, naming the URL (nothing is ever fetched).
 */
export async function makeDocumentLoader() {
  const DidKey = await import('@digitalbazaar/did-method-key');
  const Ed25519Multikey = await import('@digitalbazaar/ed25519-multikey');
  const driver = DidKey.driver();
  driver.use({
    multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from
  });
  return async url => {
    const file = contexts().get(url);
    if(file) {
      if(!_loaded.has(file)) {
        _loaded.set(file, JSON.parse(readFileSync(file, 'utf8')));
      }
      return {contextUrl: null, documentUrl: url, document: _loaded.get(file)};
    }
    if(url.startsWith('did:key:')) {
      const document = await driver.get({url});
      return {contextUrl: null, documentUrl: url, document};
    }
    throw new Error(`offline document loader: ${url} is not a published ` +
      'context or a did:key (nothing is fetched)');
  };
}

// ---------------------------------------------------------------- CLI

if(process.argv[1] && resolve(process.argv[1]) === fileURLToPath(
  import.meta.url)) {
  const [cmd, did, ...files] = process.argv.slice(2);
  if(cmd !== 'bound' || !did || files.length === 0) {
    console.error('usage: node lib.mjs bound DID FILE...');
    process.exit(2);
  }
  let bad = 0;
  for(const f of files) {
    const ok = bound(did, readJson(f));
    console.log(`${ok ? 'OK' : 'FAIL'} ${f}` + (ok ? '' :
      `: credentialSubject.id is not ${did}`));
    bad += ok ? 0 : 1;
  }
  process.exit(bad ? 1 : 0);
}
