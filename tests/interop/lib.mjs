// Shared helpers for sign.mjs, verify.mjs and keygen.mjs.
import {readFileSync} from 'node:fs';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {
  createSignCryptosuite as createJcsSignCryptosuite,
  createVerifyCryptosuite as createJcsVerifyCryptosuite
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';

export const JCS = 'eddsa-jcs-2022';
export const RDFC = 'eddsa-rdfc-2022';
// the legacy Linked Data Proof suite (proof type Ed25519Signature2020,
// URDNA2015 over the document and the proof options), as DCC issues it
export const ED2020 = 'Ed25519Signature2020';
export const KNOWN_SUITES = [JCS, RDFC, ED2020];
// Suites that verify.mjs accepts unless told otherwise (--suites / --rdfc).
export const DEFAULT_SUITES = [JCS, RDFC];

/** The suite name of a proof: its cryptosuite for a DataIntegrityProof, its
 * type for a legacy Linked Data Proof; undefined if unknown. */
export function proofSuiteName(proof) {
  if(proof && proof.type === 'DataIntegrityProof') {
    return proof.cryptosuite;
  }
  if(proof && proof.type === ED2020) {
    return ED2020;
  }
  return undefined;
}

let _rdfc, _ed2020;
async function ed2020Suite() {
  if(!_ed2020) {
    ({Ed25519Signature2020: _ed2020} =
      await import('@digitalbazaar/ed25519-signature-2020'));
  }
  return _ed2020;
}
async function rdfcCryptosuite() {
  // loaded lazily: only when eddsa-rdfc-2022 is switched on
  if(!_rdfc) {
    ({cryptosuite: _rdfc} =
      await import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite'));
  }
  return _rdfc;
}

// The message @digitalbazaar/eddsa-jcs-2022-cryptosuite 1.0.0 throws when
// proof.@context is not a prefix of the document's @context. It compares
// entries with `!==` (lib/index.js, _modifyVerifyProofOptionsAndDocument), so
// an inline context object (equal by value, never the same object) fails
// even when JS signed the document itself.
export const JCS_CONTEXT_ERROR =
  'document.@context does not start with proof.@context';

/** Does the document use an inline (object) @context entry? */
export function hasInlineContext(doc) {
  return [].concat((doc && doc['@context']) || [])
    .some(c => c && typeof c === 'object');
}

function sameJson(a, b) {
  const sorted = v => JSON.stringify(v, (k, x) => (x && typeof x === 'object' &&
    !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort()
      .map(key => [key, x[key]])) : x));
  return sorted(a) === sorted(b);
}

/** The eddsa-jcs-2022 verify cryptosuite with one change: before the
 * unchanged verify step runs, each proof.@context entry that equals the
 * document's entry *by value* is replaced by the document's entry (the same
 * object), so that the `!==` prefix check compares values as vc-di-eddsa
 * 3.3.2 step 4 means. Nothing else differs; the hashes are over the same
 * JSON. Used only when asked (--jcs-context-by-value). */
function jcsVerifyCryptosuiteByValue() {
  const cs = createJcsVerifyCryptosuite();
  const createVerifyData = cs.createVerifyData;
  return {
    ...cs,
    createVerifyData(options) {
      const {proof, document} = options;
      if(proof && Array.isArray(proof['@context']) && document &&
        Array.isArray(document['@context'])) {
        proof['@context'] = proof['@context'].map((c, i) =>
          (c && typeof c === 'object' && sameJson(c, document['@context'][i]) ?
            document['@context'][i] : c));
      }
      return createVerifyData.call(this, options);
    }
  };
}

/** A DataIntegrityProof suite (or, for Ed25519Signature2020, the legacy
 * suite) for signing (signer given) or verifying. jcsContextByValue: see
 * jcsVerifyCryptosuiteByValue. */
export async function makeSuite(name, {signer, date, jcsContextByValue} = {}) {
  let cryptosuite;
  if(name === ED2020) {
    const Suite = await ed2020Suite();
    return new Suite({signer, date});
  }
  if(name === JCS) {
    cryptosuite = signer ? createJcsSignCryptosuite() :
      jcsContextByValue ? jcsVerifyCryptosuiteByValue() :
        createJcsVerifyCryptosuite();
  } else if(name === RDFC) {
    cryptosuite = await rdfcCryptosuite();
  } else {
    throw new Error(
      `unknown cryptosuite "${name}" (known: ${KNOWN_SUITES.join(', ')})`);
  }
  return new DataIntegrityProof({signer, date, cryptosuite});
}

export function parseSuites(list) {
  const suites = list.split(',').map(s => s.trim()).filter(Boolean);
  for(const s of suites) {
    if(!KNOWN_SUITES.includes(s)) {
      throw new Error(
        `unknown cryptosuite "${s}" (known: ${KNOWN_SUITES.join(', ')})`);
    }
  }
  return suites;
}

export function readJson(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch(e) {
    throw new Error(`cannot read ${path}: ${e.code || e.message}`);
  }
  try {
    return {text, json: JSON.parse(text)};
  } catch(e) {
    throw new Error(`${path} is not valid JSON: ${e.message}`);
  }
}

/**
 * Loads a Multikey key-pair file, as written by `microcred keygen` and by
 * keygen.mjs:
 *   {"@context": "https://w3id.org/security/multikey/v1",
 *    "id": "did:key:z6Mk…#z6Mk…", "type": "Multikey",
 *    "controller": "did:key:z6Mk…",
 *    "publicKeyMultibase": "z6Mk…", "secretKeyMultibase": "z3u2…"}
 * Also accepts the W3C vc-di-eddsa keyPair.json shape
 * ({publicKeyMultibase, privateKeyMultibase}); a missing controller/id
 * defaults to the key's did:key. Checks that the secret key belongs to the
 * public key.
 */
export async function loadKeyPair(path) {
  const {json} = readJson(path);
  const k = {...json};
  if(!k.secretKeyMultibase && k.privateKeyMultibase) {
    k.secretKeyMultibase = k.privateKeyMultibase;
  }
  delete k.privateKeyMultibase;
  if(typeof k.publicKeyMultibase !== 'string' ||
    !k.publicKeyMultibase.startsWith('z6Mk')) {
    throw new Error(
      `${path}: "publicKeyMultibase" must be an Ed25519 multikey (z6Mk…)`);
  }
  if(typeof k.secretKeyMultibase !== 'string') {
    throw new Error(`${path}: "secretKeyMultibase" is missing`);
  }
  const did = `did:key:${k.publicKeyMultibase}`;
  if(!k.controller) {
    k.controller = did;
  }
  if(!k.id) {
    k.id = `${k.controller}#${k.publicKeyMultibase}`;
  }
  if(!k.type) {
    k.type = 'Multikey';
  }
  if(!k['@context']) {
    k['@context'] = 'https://w3id.org/security/multikey/v1';
  }
  const keyPair = await Ed25519Multikey.from(k);
  // the secret key must belong to the public key
  const {secretKey} = await keyPair.export(
    {raw: true, secretKey: true, canonicalize: true});
  const derived = await Ed25519Multikey.generate({seed: secretKey});
  if(derived.publicKeyMultibase !== k.publicKeyMultibase) {
    throw new Error(
      `${path}: secretKeyMultibase does not belong to publicKeyMultibase ` +
      `(it gives ${derived.publicKeyMultibase})`);
  }
  if(k.controller !== did) {
    process.stderr.write(
      `warning: ${path}: controller ${k.controller} is not the key's ` +
      `did:key (${did}); the offline verifier can only resolve did:key\n`);
  }
  return keyPair;
}

/** Flattens a jsonld-signatures / vc.js error (or array of them). */
export function errorText(err) {
  if(!err) {
    return 'unknown error';
  }
  if(Array.isArray(err)) {
    return [...new Set(err.map(errorText))].join('; ');
  }
  if(err.errors && Array.isArray(err.errors) && err.errors.length) {
    return errorText(err.errors);
  }
  let msg = err.message || String(err);
  // jsonld.js safe-mode errors carry the offending term in details.event
  const ev = err.details && err.details.event;
  if(ev) {
    msg += ` [${ev.code}${ev.details ? ': ' + JSON.stringify(ev.details) : ''}]`;
  } else if(err.details && err.details.url) {
    msg += ` [${err.details.url}]`;
  }
  if(err.cause && err.cause.message && !msg.includes(err.cause.message)) {
    msg += ` (${err.cause.message})`;
  }
  return msg.replace(/\s+/g, ' ').trim();
}
