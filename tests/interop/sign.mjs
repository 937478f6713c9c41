#!/usr/bin/env node
// Adds a Data Integrity proof with Digital Bazaar's implementation.
//
//   node sign.mjs --key KEY.json [--suite SUITE] [--created ISO]
//                 [--keep-source-text] [--out FILE] UNSIGNED.json
//
// SUITE: eddsa-jcs-2022 (default), eddsa-rdfc-2022 or Ed25519Signature2020
// (the legacy Linked Data Proof; the document's @context must list
// https://w3id.org/security/suites/ed25519-2020/v1).
//
// Writes the signed credential as JSON to stdout (or --out FILE).
// KEY.json is a Multikey key-pair file (see lib.mjs loadKeyPair); the proof's
// verificationMethod is the key's `id` (did:key:z6Mk…#z6Mk…) and its
// proofPurpose is assertionMethod. A credential that already has a proof gets
// a second one (a proof set).
//
// --suite eddsa-rdfc-2022 switches to RDF canonicalization (JSON-LD contexts
// come from the offline loader).
// --context URL=FILE serves a JSON-LD context that is not in the loader's
// table from FILE (repeatable).
// --keep-source-text keeps the input bytes as they are and only inserts the
// `"proof"` member before the final `}` (so number spellings such as 1.0 or
// 1e21, escapes and key order in the file reach the other verifier as
// written). Without it the output is JSON.stringify(signed, null, 2).
import {writeFileSync} from 'node:fs';
import jsigs from 'jsonld-signatures';
import {addContextArg, documentLoader} from './loader.mjs';
import {
  JCS, errorText, loadKeyPair, makeSuite, parseSuites, readJson
} from './lib.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

function usage(msg) {
  if(msg) {
    console.error(`sign.mjs: ${msg}`);
  }
  console.error(
    'usage: node sign.mjs --key KEY.json [--suite eddsa-jcs-2022|' +
    'eddsa-rdfc-2022|Ed25519Signature2020] [--context URL=FILE]... [--created ISO] [--keep-source-text] [--out FILE] ' +
    'UNSIGNED.json');
  process.exit(2);
}

const opts = {key: undefined, suite: JCS, created: undefined, out: undefined,
  keepText: false};
let input;
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
  } else if(a === '--context') {
    try {
      addContextArg(val());
    } catch(e) {
      usage(e.message);
    }
  } else if(a === '--created') {
    opts.created = val();
  } else if(a === '--out') {
    opts.out = val();
  } else if(a === '--keep-source-text') {
    opts.keepText = true;
  } else if(a === '-h' || a === '--help') {
    usage();
  } else if(a.startsWith('-')) {
    usage(`unknown option ${a}`);
  } else if(input === undefined) {
    input = a;
  } else {
    usage('only one UNSIGNED.json at a time');
  }
}
if(!opts.key) {
  usage('--key is required');
}
if(!input) {
  usage('no UNSIGNED.json given');
}

try {
  let date;
  if(opts.created !== undefined) {
    date = new Date(opts.created);
    if(isNaN(date)) {
      throw new Error(`--created: not a date: ${opts.created}`);
    }
  }
  const keyPair = await loadKeyPair(opts.key);
  const {text, json: credential} = readJson(input);
  if(!credential || typeof credential !== 'object' ||
    Array.isArray(credential)) {
    throw new Error(`${input}: not a JSON object`);
  }
  if(opts.keepText && 'proof' in credential) {
    throw new Error(
      '--keep-source-text needs an input without "proof"');
  }
  const suite = await makeSuite(opts.suite, {signer: keyPair.signer(), date});
  const signed = await jsigs.sign(structuredClone(credential), {
    suite, purpose: new AssertionProofPurpose(), documentLoader
  });

  let out;
  if(opts.keepText) {
    if(JSON.stringify(signed['@context']) !==
      JSON.stringify(credential['@context'])) {
      throw new Error(
        '--keep-source-text: the suite changed @context; sign without it');
    }
    const body = text.replace(/\s*$/, '');
    if(!body.endsWith('}')) {
      throw new Error(`${input}: does not end with "}"`);
    }
    const inner = body.slice(0, -1).replace(/\s*$/, '');
    const empty = inner.replace(/^\uFEFF?\s*\{/, '').trim() === '';
    const proof = JSON.stringify(signed.proof, null, 2).replace(/\n/g, '\n  ');
    out = `${inner}${empty ? '' : ','}\n  "proof": ${proof}\n}\n`;
    // the document must still parse to exactly what was signed
    if(JSON.stringify(JSON.parse(out)) !== JSON.stringify(signed)) {
      throw new Error('--keep-source-text: internal error: output differs');
    }
  } else {
    out = JSON.stringify(signed, null, 2) + '\n';
  }
  if(opts.out) {
    writeFileSync(opts.out, out);
  } else {
    process.stdout.write(out);
  }
} catch(e) {
  console.error(`sign.mjs: ${errorText(e)}`);
  process.exit(1);
}
