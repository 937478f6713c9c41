#!/usr/bin/env node
// A wallet for a VC API exchange (the interaction Learner Credential Wallet
// uses), built on Digital Bazaar's libraries (@digitalbazaar/vc,
// data-integrity + eddsa-rdfc-2022-cryptosuite, ed25519-multikey, or
// ed25519-signature-2020 as LCW signs), against a running issuer.
//
//   node vcapi.mjs --exchange URL [options]
//
// The wallet makes a fresh Ed25519 key and its did:key, POSTs {} to the
// exchange URL, reads the verifiablePresentationRequest (a DIDAuthentication
// query accepting did:key, a challenge and a domain), signs a DID
// Authentication presentation (holder = its did:key, proofPurpose
// authentication, that challenge and domain) with vc.signPresentation, POSTs
// {"verifiablePresentation": VP} to interact.service[0].serviceEndpoint if
// the request names one, else to the same URL (as LCW does), and expects 200
// {"verifiablePresentation": {..., "verifiableCredential": [...]}} with every
// credential's credentialSubject.id equal to its DID. Credentials are written
// to OUT/credential-N.json. Prints one JSON summary line; exit 0 on success
// (or when the --case's fault was refused as it must be), 1 on failure, 2 on
// a usage error.
//
// Options:
//   --exchange URL    the exchange URL                              [required]
//   --out DIR         where credential-N.json go (default: no files)
//   --suite S         eddsa-rdfc-2022 (default: DataIntegrityProof, VC 2.0
//                     presentation) or Ed25519Signature2020 (VC 1.1
//                     presentation, as Learner Credential Wallet signs)
//   --case C          ok (default)
//                     wrong-challenge  VP signed over another challenge: 4xx
//                     wrong-domain     VP signed for another domain: 4xx
//                     unsigned         VP without a proof: 4xx
//                     replay           the ok flow, then POST {} and the
//                                      same VP again: both 4xx
//   A refusal must be a 4xx with a JSON body holding "error".
//
// JSON-LD: the document loader (lib.mjs) serves only the contexts in
// ../interop/published-contexts/ and resolves did:key offline; nothing is
// fetched. The presentation is also verified locally (vc.verifyPresentation)
// before it is sent, so a refusal of a good VP is the server's.
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from
  '@digitalbazaar/ed25519-verification-key-2020';
import {bound, http, makeDocumentLoader, parseArgs, writeJson} from './lib.mjs';

const SPEC = {
  exchange: 'string', out: 'string', suite: 'string', case: 'string',
  help: 'bool'
};
const CASES = ['ok', 'wrong-challenge', 'wrong-domain', 'unsigned', 'replay'];
const SUITES = ['eddsa-rdfc-2022', 'Ed25519Signature2020'];

function usage(msg) {
  if(msg) {
    console.error(`vcapi.mjs: ${msg}`);
  }
  console.error('usage: node vcapi.mjs --exchange URL [--out DIR] ' +
    `[--suite ${SUITES.join('|')}] [--case ${CASES.join('|')}]`);
  process.exit(2);
}

let args;
try {
  args = parseArgs(process.argv.slice(2), SPEC);
} catch(e) {
  usage(e.message);
}
if(args.help) {
  usage();
}
if(!args.exchange) {
  usage('--exchange is required');
}
const kase = args.case ?? 'ok';
const suiteName = args.suite ?? 'eddsa-rdfc-2022';
if(!CASES.includes(kase)) {
  usage(`bad --case ${kase}`);
}
if(!SUITES.includes(suiteName)) {
  usage(`bad --suite ${suiteName}`);
}

const summary = {ok: false, case: kase, suite: suiteName, exchange: args.exchange};
const steps = [];
summary.steps = steps;

/** POST JSON, record the step. */
async function post(step, url, body) {
  const r = await http(url, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify(body)
  });
  steps.push({step, url, status: r.status,
    error: r.json?.error, contentType: r.headers.get('content-type')});
  return r;
}

function fail(msg, r) {
  const e = new Error(msg + (r ? `: HTTP ${r.status} ${r.text.slice(0, 500)}` : ''));
  throw e;
}

/** A refusal as the brief wants it: 4xx and a JSON {"error": ...}. */
function refused(r) {
  return r.status >= 400 && r.status < 500 && r.json &&
    typeof r.json === 'object' && r.json.error !== undefined;
}

/** The holder: key pair, DID, proof suite (signing) for --suite. */
async function makeHolderSuite() {
  if(suiteName === 'Ed25519Signature2020') {
    const key = await Ed25519VerificationKey2020.generate();
    const did = `did:key:${key.fingerprint()}`;
    key.controller = did;
    key.id = `${did}#${key.fingerprint()}`;
    return {did, suite: new Ed25519Signature2020({key}), version: 1.0};
  }
  const kp = await Ed25519Multikey.generate();
  const did = `did:key:${kp.publicKeyMultibase}`;
  const key = await Ed25519Multikey.from({
    ...(await kp.export({publicKey: true, secretKey: true,
      includeContext: true})),
    id: `${did}#${kp.publicKeyMultibase}`, controller: did
  });
  return {
    did,
    suite: new DataIntegrityProof({
      signer: key.signer(), cryptosuite: eddsaRdfc2022
    }),
    version: 2.0
  };
}

function verifySuites() {
  return [
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    new Ed25519Signature2020()
  ];
}

async function main() {
  const documentLoader = await makeDocumentLoader();
  const holder = await makeHolderSuite();
  summary.holder = holder.did;

  // 1. Start the exchange.
  const r1 = await post('start', args.exchange, {});
  if(r1.status !== 200 || !r1.json) {
    fail('POST {} to the exchange did not answer 200 JSON', r1);
  }
  const vpr = r1.json.verifiablePresentationRequest;
  if(!vpr) {
    fail('no verifiablePresentationRequest', r1);
  }
  const queries = [].concat(vpr.query ?? []);
  const didAuth = queries.find(q =>
    q?.type === 'DIDAuthentication' || q?.type === 'DIDAuth');
  if(!didAuth) {
    fail('the request has no DIDAuthentication query', r1);
  }
  const methods = [].concat(didAuth.acceptedMethods ?? []).map(m => m?.method);
  if(methods.length && !methods.includes('key')) {
    fail(`did:key is not among acceptedMethods ${JSON.stringify(methods)}`);
  }
  const {challenge, domain} = vpr;
  if(typeof challenge !== 'string' || !challenge) {
    fail('the request has no challenge', r1);
  }
  Object.assign(summary, {challenge, domain, acceptedMethods: methods});
  const target = vpr.interact?.service?.[0]?.serviceEndpoint ?? args.exchange;
  summary.target = target;

  // 2. DID Authentication presentation.
  const presentation = vc.createPresentation({
    holder: holder.did, version: holder.version
  });
  let vp = presentation;
  if(kase !== 'unsigned') {
    vp = await vc.signPresentation({
      presentation,
      suite: holder.suite,
      challenge: kase === 'wrong-challenge' ? `${challenge}-not-it` : challenge,
      domain: kase === 'wrong-domain' ? 'https://wrong-domain.invalid' : domain,
      documentLoader
    });
    // our own check that the VP is good (for the faulty cases: good but
    // for another challenge/domain)
    const local = await vc.verify({
      presentation: vp, suite: verifySuites(), documentLoader,
      challenge: kase === 'wrong-challenge' ? `${challenge}-not-it` : challenge,
      domain: kase === 'wrong-domain' ? 'https://wrong-domain.invalid' : domain
    });
    if(!local.verified) {
      throw new Error('our own presentation does not verify locally: ' +
        JSON.stringify(local.error ?? local.presentationResult).slice(0, 600));
    }
  }
  summary.proof = vp.proof ? {type: vp.proof.type,
    cryptosuite: vp.proof.cryptosuite, proofPurpose: vp.proof.proofPurpose,
    verificationMethod: vp.proof.verificationMethod} : null;
  summary.vpContext = vp['@context'];

  // 3. Send it.
  const r2 = await post('present', target, {verifiablePresentation: vp});
  if(kase === 'wrong-challenge' || kase === 'wrong-domain' ||
    kase === 'unsigned') {
    if(refused(r2)) {
      summary.refusedWith = {status: r2.status, error: r2.json.error};
      return true;
    }
    fail(`a ${kase} presentation was not refused with 4xx {"error"}`, r2);
  }
  if(r2.status !== 200 || !r2.json) {
    fail('the presentation was not accepted with 200 JSON', r2);
  }
  if(r2.json.verifiablePresentationRequest) {
    fail('the exchange asks for more (another verifiablePresentationRequest)',
      r2);
  }
  const outVp = r2.json.verifiablePresentation;
  if(!outVp || ![].concat(outVp.type ?? []).includes('VerifiablePresentation')) {
    fail('the response holds no VerifiablePresentation', r2);
  }
  const creds = [].concat(outVp.verifiableCredential ?? []);
  if(creds.length === 0) {
    fail('the response presentation holds no credential', r2);
  }
  summary.count = creds.length;
  summary.files = [];
  const unbound = [];
  creds.forEach((c, i) => {
    if(args.out) {
      summary.files.push(writeJson(args.out, `credential-${i + 1}.json`, c));
    }
    if(!bound(holder.did, c)) {
      unbound.push(i + 1);
    }
  });
  if(unbound.length) {
    fail(`credential(s) ${unbound.join(', ')} not bound to ${holder.did}`);
  }

  // 4. Replay after completion.
  if(kase === 'replay') {
    const r3 = await post('replay-start', args.exchange, {});
    const r4 = await post('replay-present', target, {verifiablePresentation: vp});
    const bad = [];
    if(!refused(r3)) {
      bad.push(`POST {} again: HTTP ${r3.status} ${r3.text.slice(0, 200)}`);
    }
    if(!refused(r4)) {
      bad.push(`the same VP again: HTTP ${r4.status} ${r4.text.slice(0, 200)}`);
    }
    if(bad.length) {
      fail('replay after completion was not refused with 4xx {"error"}: ' +
        bad.join('; '));
    }
  }
  return true;
}

try {
  summary.ok = await main();
} catch(e) {
  summary.ok = false;
  summary.error = String(e?.message ?? e);
}
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);
