#!/usr/bin/env node
// Verifies Data Integrity proofs with Digital Bazaar's implementation.
//
//   node verify.mjs [options] FILE...
//
// For each FILE prints `OK FILE` or `FAIL FILE: reason`; exit status 0 iff
// every file verified, 1 if any failed, 2 on a usage error.
//
// Every proof in a file must be a DataIntegrityProof whose `cryptosuite` is
// switched on (or, with Ed25519Signature2020 switched on, a legacy proof of
// that type), and every one must verify (jsonld-signatures +
// @digitalbazaar/data-integrity + the cryptosuite named by the proof, or
// @digitalbazaar/ed25519-signature-2020, with AssertionProofPurpose: the
// verification method must be listed under `assertionMethod` of its
// controller's DID document, resolved offline).
//
// Options:
//   --suites LIST   comma-separated suites to accept: eddsa-jcs-2022,
//                   eddsa-rdfc-2022, Ed25519Signature2020
//                   (default: $INTEROP_SUITES or eddsa-jcs-2022,eddsa-rdfc-2022)
//   --rdfc          also accept eddsa-rdfc-2022 (same as adding it to --suites)
//   --did-doc FILE  a saved DID document (e.g. a did:web issuer's did.json)
//                   to resolve its DID and keys from; repeatable
//   --context URL=FILE  serve the JSON-LD context URL from FILE; repeatable
//   --vc            verify with @digitalbazaar/vc verifyCredential instead:
//                   adds VC data-model checks (type, issuer, validFrom /
//                   validUntil against --at) and requires that the issuer id
//                   equals the verification method's controller
//   --at TIME       "now" for --vc validity checks (ISO 8601)
//   --expand        also require JSON-LD expansion in safe mode to succeed
//                   with the pinned contexts (every term defined)
import jsigs from 'jsonld-signatures';
import jsonld from 'jsonld';
import {
  addContextArg, addDidDocumentFile, documentLoader
} from './loader.mjs';
import {
  DEFAULT_SUITES, RDFC, errorText, makeSuite, parseSuites, proofSuiteName,
  readJson
} from './lib.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

function usage(msg) {
  if(msg) {
    console.error(`verify.mjs: ${msg}`);
  }
  console.error(
    'usage: node verify.mjs [--suites LIST] [--rdfc] [--did-doc FILE]... ' +
    '[--context URL=FILE]... ' +
    '[--vc] [--at TIME] [--expand] FILE...');
  process.exit(2);
}

const opts = {
  suites: process.env.INTEROP_SUITES ?
    parseSuites(process.env.INTEROP_SUITES) : [...DEFAULT_SUITES],
  vc: false, at: undefined, expand: false
};
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
  if(a === '--suites' || a === '--suite') {
    try {
      opts.suites = parseSuites(val());
    } catch(e) {
      usage(e.message);
    }
  } else if(a === '--rdfc') {
    if(!opts.suites.includes(RDFC)) {
      opts.suites.push(RDFC);
    }
  } else if(a === '--did-doc') {
    const f = val();
    try {
      addDidDocumentFile(f);
    } catch(e) {
      usage(e.message);
    }
  } else if(a === '--context') {
    try {
      addContextArg(val());
    } catch(e) {
      usage(e.message);
    }
  } else if(a === '--vc') {
    opts.vc = true;
  } else if(a === '--at') {
    opts.at = val();
    if(isNaN(new Date(opts.at))) {
      usage(`--at: not a date: ${opts.at}`);
    }
  } else if(a === '--expand') {
    opts.expand = true;
  } else if(a === '-h' || a === '--help') {
    usage();
  } else if(a === '--') {
    files.push(...argv.slice(i + 1));
    break;
  } else if(a.startsWith('-') && a !== '-') {
    usage(`unknown option ${a}`);
  } else {
    files.push(a);
  }
}
if(files.length === 0) {
  usage('no FILE given');
}

async function verifyOne(credential) {
  if(!credential || typeof credential !== 'object' ||
    Array.isArray(credential)) {
    throw new Error('not a JSON object');
  }
  const proofs = credential.proof === undefined ? [] :
    [].concat(credential.proof);
  if(proofs.length === 0) {
    throw new Error('no proof');
  }
  const suiteNames = new Set();
  for(const p of proofs) {
    if(!p || typeof p !== 'object') {
      throw new Error('proof is not an object');
    }
    const name = proofSuiteName(p);
    if(name === undefined) {
      throw new Error(
        `unsupported proof type ${JSON.stringify(p.type)}` +
        (p.type === 'DataIntegrityProof' ?
          ` with cryptosuite ${JSON.stringify(p.cryptosuite)}` : ''));
    }
    if(!opts.suites.includes(name)) {
      throw new Error(
        `${p.type === 'DataIntegrityProof' ? 'cryptosuite ' : 'proof type '}` +
        `${JSON.stringify(name)} is not switched on ` +
        `(accepted: ${opts.suites.join(', ')}; see --suites / --rdfc)`);
    }
    suiteNames.add(name);
  }
  const suite = await Promise.all([...suiteNames].map(n => makeSuite(n)));

  let result;
  if(opts.vc) {
    const vc = await import('@digitalbazaar/vc');
    result = await vc.verifyCredential({
      credential, suite, documentLoader,
      now: opts.at ? new Date(opts.at) : undefined,
      // credential status is out of scope here (no network)
      checkStatus: async () => ({verified: true})
    });
  } else {
    result = await jsigs.verify(credential, {
      suite, purpose: new AssertionProofPurpose(), documentLoader
    });
  }
  if(!result.verified) {
    const errs = [];
    if(result.error) {
      errs.push(result.error);
    }
    for(const r of result.results || []) {
      if(r.error) {
        errs.push(r.error);
      }
    }
    throw new Error(errorText(errs.length ? errs : result.error));
  }
  const results = result.results || [];
  if(results.length !== proofs.length || !results.every(r => r.verified)) {
    throw new Error(
      `only ${results.filter(r => r.verified).length} of ${proofs.length} ` +
      'proofs verified');
  }

  if(opts.expand) {
    try {
      await jsonld.expand(credential, {documentLoader, safe: true});
    } catch(e) {
      throw new Error(`JSON-LD safe-mode expansion failed: ${errorText(e)}`);
    }
  }
}

let failed = 0;
for(const file of files) {
  try {
    const {json} = readJson(file);
    await verifyOne(json);
    console.log(`OK ${file}`);
  } catch(e) {
    failed++;
    console.log(`FAIL ${file}: ${errorText(e)}`);
  }
}
process.exitCode = failed ? 1 : 0;
