#!/usr/bin/env node
// Makes a VerifiablePresentation of credentials and signs it as their holder
// with Digital Bazaar's @digitalbazaar/vc (createPresentation +
// signPresentation: AuthenticationProofPurpose, with challenge and domain).
//
//   node present.mjs --key HOLDER-KEY.json [--suite S] [--challenge C]
//                    [--domain D] [--purpose P] [--id URL] [--created ISO]
//                    [--out FILE] CREDENTIAL.json...
//
// HOLDER-KEY.json is a Multikey key-pair file (keygen.mjs / microcred keygen);
// the presentation's holder is the key's controller (its did:key), the
// proof's verificationMethod the key's id. S: eddsa-rdfc-2022 (default) or
// eddsa-jcs-2022. P: authentication (default: AuthenticationProofPurpose,
// what vc-js signPresentation does) or assertionMethod (only to show what
// DCC's verifier-core, which checks presentations with
// AssertionProofPurpose, does with the same holder key). The credentials go
// in as they are, byte-equivalent JSON.
// JSON-LD contexts: the published ones only (loader.mjs).
import {writeFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';
import {documentLoader} from './loader.mjs';
import {RDFC, errorText, loadKeyPair, makeSuite, parseSuites, readJson}
  from './lib.mjs';

function usage(msg) {
  if(msg) {
    console.error(`present.mjs: ${msg}`);
  }
  console.error('usage: node present.mjs --key HOLDER-KEY.json [--suite S] ' +
    '[--challenge C] [--domain D] [--id URL] [--created ISO] [--out FILE] ' +
    'CREDENTIAL.json...');
  process.exit(2);
}

const opts = {suite: RDFC, challenge: undefined, domain: undefined};
const files = [];
const argv = process.argv.slice(2);
for(let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if(i + 1 >= argv.length) {
      usage(`${a} needs a value`);
    }
    return argv[++i];
  };
  if(a === '--key') {
    opts.key = val();
  } else if(a === '--suite') {
    try {
      [opts.suite] = parseSuites(val());
    } catch(e) {
      usage(e.message);
    }
  } else if(a === '--challenge') {
    opts.challenge = val();
  } else if(a === '--domain') {
    opts.domain = val();
  } else if(a === '--purpose') {
    opts.purpose = val();
    if(!['authentication', 'assertionMethod'].includes(opts.purpose)) {
      usage('--purpose is authentication or assertionMethod');
    }
  } else if(a === '--id') {
    opts.id = val();
  } else if(a === '--created') {
    opts.created = val();
  } else if(a === '--out') {
    opts.out = val();
  } else if(a.startsWith('-')) {
    usage(`unknown option ${a}`);
  } else {
    files.push(a);
  }
}
if(!opts.key || !files.length) {
  usage(!opts.key ? '--key is required' : 'no CREDENTIAL.json given');
}

try {
  const keyPair = await loadKeyPair(opts.key);
  const verifiableCredential = files.map(f => readJson(f).json);
  const presentation = vc.createPresentation({
    verifiableCredential, holder: keyPair.controller,
    ...(opts.id ? {id: opts.id} : {}), version: 2.0
  });
  const date = opts.created ? new Date(opts.created) : undefined;
  const suite = await makeSuite(opts.suite, {signer: keyPair.signer(), date});
  const signed = await vc.signPresentation({
    presentation, suite, documentLoader,
    challenge: opts.challenge, domain: opts.domain,
    ...(opts.purpose === 'assertionMethod' ?
      {purpose: new jsigs.purposes.AssertionProofPurpose()} : {})
  });
  const out = JSON.stringify(signed, null, 2) + '\n';
  if(opts.out) {
    writeFileSync(opts.out, out);
  } else {
    process.stdout.write(out);
  }
} catch(e) {
  console.error(`present.mjs: ${errorText(e)}`);
  process.exit(1);
}
