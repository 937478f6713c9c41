#!/usr/bin/env node
// Small JSON helpers for run.sh (so that CI needs no jq).
//
//   get FILE PATH                 print the value at PATH (strings raw)
//   set-issuer FILE DID OUT       issuer := DID (or issuer.id := DID)
//   strip-proof FILE OUT          remove "proof"
//   compact FILE OUT              same JSON without whitespace (not a tamper)
//   fraction-numbers FILE         print the number literals written with a
//                                 fraction part or exponent (e.g. 1.0)
//   nquads FILE                   jsonld.js's canonical N-Quads (RDFC-1.0) of
//                                 FILE without its proof
//   coerced-booleans FILE         print "property datatype" for each native
//                                 boolean whose term coerces its @type
//   reorder FILE OUT              every object's keys reversed (not a tamper)
//   tamper KIND FILE OUT          change one signed value; KIND is one of
//                                 value | number | nfd | created | context
//                                 (context-append: allowed by the spec)
//   (tamper created-last: proof.created of the last proof of a proof set;
//    tamper context-drop: remove the Open Badges @context entry)
//   check-key FILE DID            a Multikey key-pair file for DID?
//   proof-suites FILE             print the proofs' cryptosuites (or legacy
//                                 proof types), comma-separated, in order
//   result-args ACHIEVEMENT       print NAME=VALUE for `microcred issue
//                                 --result`, one a line: 86 for each Percent
//                                 resultDescription, Completed for Status
//   check-ob FILE                 an OB 3.0 credential with non-empty
//                                 credentialSubject.result, evidence and
//                                 achievement.alignment
//   non-ascii FILE...             print the files whose text is not all
//                                 ASCII; fail if there is none
//   ld-variant FILE OUT [--rdfc | --no-tiny | --no-high-bmp]
//                                 a copy that is JSON-LD both implementations
//                                 read alike: without members whose name has
//                                 a control character (U+0000-U+001F: not
//                                 allowed in an IRI); --no-tiny also drops
//                                 numbers that JS prints with an exponent
//                                 below 1 (1e-7, 5e-324: jsonld.js 9 types
//                                 them xsd:integer "0"); --no-high-bmp drops
//                                 members whose name has a character in
//                                 U+E000-U+FFFF (rdf-canonize 5 sorts N-Quads
//                                 by UTF-16 code units, RDFC-1.0 by code
//                                 points); --rdfc = both. Prints what it
//                                 removed
//   add-context FILE URL TERM VALUE OUT
//                                 append context URL to @context and set the
//                                 top-level TERM to VALUE (a term it defines)
//   check-outcome FILE CHECK OUT  `microcred verify --json` output in FILE has
//                                 checks[].check == CHECK with outcome OUT
//                                 (a proof set repeats checks per proof: OUT
//                                 pass needs all of them to pass, any other
//                                 OUT needs one of them)
//   count-json FILE N             FILE holds exactly N JSON objects (JSON
//                                 lines or concatenated), none saying it is
//                                 invalid; prints them one a line
// PATH is dot-separated (array indexes are numbers): proof.proofValue
import {readFileSync, writeFileSync} from 'node:fs';

const [cmd, ...args] = process.argv.slice(2);

function die(msg) {
  console.error(`jsontool: ${msg}`);
  process.exit(1);
}
function load(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch(e) {
    die(`${file}: ${e.message}`);
  }
}
function save(file, value, space = 2) {
  writeFileSync(file, JSON.stringify(value, null, space) + (space ? '\n' : ''));
}
function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}
function firstProof(doc) {
  return Array.isArray(doc.proof) ? doc.proof[0] : doc.proof;
}

// depth-first walk over the document body (not proof, not @context);
// returns [parent, key, value] of the first leaf accepted by `pred`
function findLeaf(node, pred, skipTop = ['proof', '@context']) {
  const stack = [[null, null, node, true]];
  while(stack.length) {
    const [parent, key, v, top] = stack.shift();
    if(parent !== null && pred(v, key)) {
      return [parent, key, v];
    }
    if(v && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) :
        Object.entries(v);
      for(const [k, x] of entries) {
        if(top && skipTop.includes(k)) {
          continue;
        }
        stack.push([v, k, x, false]);
      }
    }
  }
  return null;
}

function tamper(kind, doc) {
  const body = doc;
  if(kind === 'value') {
    // a human-readable string: prefer the achievement / credential name
    const cs = [].concat(body.credentialSubject || [])[0] || {};
    if(cs.achievement && typeof cs.achievement.name === 'string') {
      cs.achievement.name += ' (tampered)';
      return 'credentialSubject.achievement.name';
    }
    if(typeof body.name === 'string') {
      body.name += ' (tampered)';
      return 'name';
    }
    const hit = findLeaf(body, (v, k) =>
      typeof v === 'string' && !['id', 'type', '@context'].includes(k));
    if(!hit) {
      die('tamper value: no string value found');
    }
    hit[0][hit[1]] += ' (tampered)';
    return String(hit[1]);
  }
  if(kind === 'number') {
    const hit = findLeaf(body, v => typeof v === 'number');
    if(!hit) {
      die('tamper number: no number found');
    }
    hit[0][hit[1]] = hit[2] === 0 ? 1 : hit[2] * 2;
    return `${hit[1]}: ${hit[2]} -> ${hit[0][hit[1]]}`;
  }
  if(kind === 'nfd') {
    // precomposed U+00E9 -> e + U+0301: same text to a human, other bytes
    const hit = findLeaf(body, v => typeof v === 'string' && v.includes('\u00e9'));
    if(!hit) {
      die('tamper nfd: no string with U+00E9 found');
    }
    hit[0][hit[1]] = hit[2].replace('\u00e9', 'e\u0301');
    return `${hit[1]}: NFC -> NFD`;
  }
  if(kind === 'created') {
    const p = firstProof(body);
    if(!p || typeof p.created !== 'string') {
      die('tamper created: no proof.created');
    }
    const d = new Date(p.created);
    d.setUTCSeconds(d.getUTCSeconds() + 1);
    p.created = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return 'proof.created +1s';
  }
  if(kind === 'created-last') {
    const proofs = [].concat(body.proof || []);
    const p = proofs[proofs.length - 1];
    if(proofs.length < 2 || typeof p.created !== 'string') {
      die('tamper created-last: not a proof set with proof.created');
    }
    const d = new Date(p.created);
    d.setUTCSeconds(d.getUTCSeconds() + 1);
    p.created = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return `proof[${proofs.length - 1}].created +1s`;
  }
  if(kind === 'context') {
    // a signed context entry changed (3.0.3 -> 3.0.2 style): other meaning;
    // the last entry that is a URL (an inline context map may follow it)
    const ctx = [].concat(body['@context']);
    const last = ctx.map(c => typeof c === 'string').lastIndexOf(true);
    if(last < 0) {
      die('tamper context: no @context entry is a URL');
    }
    ctx[last] = ctx[last].includes('3.0.3') ?
      ctx[last].replace('3.0.3', '3.0.2') : `${ctx[last]}?v=2`;
    body['@context'] = ctx;
    return `@context[${last}] -> ${ctx[last]}`;
  }
  if(kind === 'context-drop') {
    // remove the Open Badges context: its terms then expand to other IRIs
    // (VC 2.0's @vocab), so the RDF (and an eddsa-rdfc-2022 hash) changes
    const ctx = [].concat(body['@context']);
    const i = ctx.findIndex(c => typeof c === 'string' &&
      c.includes('/spec/ob/v3p0/context'));
    if(i < 0) {
      die('tamper context-drop: no Open Badges context');
    }
    const [gone] = ctx.splice(i, 1);
    body['@context'] = ctx;
    return `@context - ${gone}`;
  }
  if(kind === 'context-append') {
    // NOT a tamper for eddsa-jcs-2022: vc-di-eddsa "Verify Proof
    // (eddsa-jcs-2022)" step 4 only requires the document's @context to
    // start with proof.@context, then hashes the document with
    // proof.@context (w3c/vc-di-eddsa#79)
    const ctx = [].concat(body['@context']);
    body['@context'] = [...ctx, {appendedTerm: 'https://example.org/t#x'}];
    return '@context + inline context';
  }
  die(`unknown tamper kind ${kind}`);
}

function reorder(v) {
  if(Array.isArray(v)) {
    return v.map(reorder);
  }
  if(v && typeof v === 'object') {
    const out = {};
    for(const k of Object.keys(v).reverse()) {
      out[k] = reorder(v[k]);
    }
    return out;
  }
  return v;
}

// parses concatenated JSON values (JSON lines, pretty objects, or both)
function parseStream(text) {
  const values = [];
  let i = 0;
  const n = text.length;
  while(i < n) {
    while(i < n && /\s/.test(text[i])) {
      i++;
    }
    if(i >= n) {
      break;
    }
    if(text[i] !== '{' && text[i] !== '[') {
      throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 20))}`);
    }
    let depth = 0;
    let inStr = false;
    let j = i;
    for(; j < n; j++) {
      const c = text[j];
      if(inStr) {
        if(c === '\\') {
          j++;
        } else if(c === '"') {
          inStr = false;
        }
      } else if(c === '"') {
        inStr = true;
      } else if(c === '{' || c === '[') {
        depth++;
      } else if(c === '}' || c === ']') {
        depth--;
        if(depth === 0) {
          break;
        }
      }
    }
    values.push(JSON.parse(text.slice(i, j + 1)));
    i = j + 1;
  }
  return values;
}

switch(cmd) {
  case 'get': {
    const [file, path] = args;
    const v = getPath(load(file), path);
    if(v === undefined) {
      die(`${file}: no ${path}`);
    }
    console.log(typeof v === 'string' ? v : JSON.stringify(v));
    break;
  }
  case 'set-issuer': {
    const [file, did, out] = args;
    const doc = load(file);
    if(doc.issuer && typeof doc.issuer === 'object') {
      doc.issuer.id = did;
    } else {
      doc.issuer = did;
    }
    save(out, doc);
    break;
  }
  case 'strip-proof': {
    const [file, out] = args;
    const doc = load(file);
    delete doc.proof;
    save(out, doc);
    break;
  }
  case 'fraction-numbers': {
    // number literals (outside strings) written with a fraction part or an
    // exponent, e.g. 1.0 (spruceid/ssi#667 reads them as doubles)
    const [file] = args;
    const text = readFileSync(file, 'utf8');
    const found = [];
    for(let i = 0; i < text.length; i++) {
      const c = text[i];
      if(c === '"') {
        for(i++; i < text.length && text[i] !== '"'; i++) {
          if(text[i] === '\\') {
            i++;
          }
        }
      } else if(/[-0-9]/.test(c)) {
        const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i));
        if(m && (m[1] || m[2])) {
          found.push(m[0]);
        }
        i += m ? m[0].length - 1 : 0;
      }
    }
    console.log(found.join(' '));
    break;
  }
  case 'nquads': {
    // jsonld.js's canonical N-Quads (RDFC-1.0) of the document without its
    // proof (published contexts only)
    const [file] = args;
    const {default: jsonld} = await import('jsonld');
    const {documentLoader} = await import('./loader.mjs');
    const doc = load(file);
    delete doc.proof;
    try {
      process.stdout.write(await jsonld.canonize(doc, {algorithm: 'RDFC-1.0',
        format: 'application/n-quads', documentLoader, safe: false}));
    } catch(e) {
      die(`${file}: ${e.message}`);
    }
    break;
  }
  case 'coerced-booleans': {
    // native JSON booleans under a term whose context coerces @type (JSON-LD
    // 1.1 makes the literal that datatype; ssi ignores the coercion): print
    // "property datatype" per value, from the expanded form (published
    // contexts only)
    const [file] = args;
    const {default: jsonld} = await import('jsonld');
    const {documentLoader} = await import('./loader.mjs');
    const found = new Set();
    const walk = (v, prop) => {
      if(Array.isArray(v)) {
        v.forEach(x => walk(x, prop));
      } else if(v && typeof v === 'object') {
        if(typeof v['@value'] === 'boolean' && v['@type']) {
          found.add(`${prop} ${v['@type']}`);
        }
        for(const [k, x] of Object.entries(v)) {
          walk(x, k);
        }
      }
    };
    try {
      walk(await jsonld.expand(load(file), {documentLoader}), '');
    } catch(e) {
      die(`${file}: ${e.message}`);
    }
    console.log([...found].join('\n'));
    break;
  }
  case 'compact': {
    const [file, out] = args;
    save(out, load(file), 0);
    break;
  }
  case 'reorder': {
    const [file, out] = args;
    save(out, reorder(load(file)));
    break;
  }
  case 'tamper': {
    const [kind, file, out] = args;
    const doc = load(file);
    const what = tamper(kind, doc);
    save(out, doc);
    console.log(what);
    break;
  }
  case 'check-key': {
    const [file, did] = args;
    const k = load(file);
    const fp = did.replace(/^did:key:/, '');
    const problems = [];
    if(!/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/.test(did)) {
      problems.push(`printed DID ${JSON.stringify(did)} is not did:key:z6Mk…`);
    }
    const want = {
      '@context': 'https://w3id.org/security/multikey/v1',
      type: 'Multikey', controller: did, id: `${did}#${fp}`,
      publicKeyMultibase: fp
    };
    for(const [key, val] of Object.entries(want)) {
      if(JSON.stringify(k[key]) !== JSON.stringify(val)) {
        problems.push(`${key} is ${JSON.stringify(k[key])}, want ` +
          JSON.stringify(val));
      }
    }
    if(typeof k.secretKeyMultibase !== 'string' ||
      !k.secretKeyMultibase.startsWith('z3u2')) {
      problems.push('secretKeyMultibase is not a 32-byte ed25519-priv ' +
        `multikey (z3u2…): ${JSON.stringify(k.secretKeyMultibase)}`);
    }
    if(problems.length) {
      die(`${file}: ${problems.join('; ')}`);
    }
    break;
  }
  case 'proof-suites': {
    const [file] = args;
    const proofs = [].concat(load(file).proof || []);
    console.log(proofs.map(p => (p && p.type === 'DataIntegrityProof' ?
      p.cryptosuite : p && p.type)).join(','));
    break;
  }
  case 'result-args': {
    const [file] = args;
    const doc = load(file);
    const a = (doc.credentialSubject && doc.credentialSubject.achievement) ||
      doc;
    for(const rd of [].concat(a.resultDescription || [])) {
      const name = String(rd.id || '').split('/').pop();
      if(!name) {
        continue;
      }
      if(rd.resultType === 'Percent') {
        console.log(`${name}=86`);
      } else if(rd.resultType === 'Status') {
        console.log(`${name}=Completed`);
      }
    }
    break;
  }
  case 'check-ob': {
    const [file] = args;
    const doc = load(file);
    const cs = [].concat(doc.credentialSubject || [])[0] || {};
    const problems = [];
    if(![].concat(doc.type || []).includes('OpenBadgeCredential')) {
      problems.push('type lacks OpenBadgeCredential');
    }
    if(![].concat(cs.result || []).length) {
      problems.push('no credentialSubject.result');
    }
    if(![].concat(doc.evidence || []).length) {
      problems.push('no evidence');
    }
    if(!(cs.achievement && [].concat(cs.achievement.alignment || []).length)) {
      problems.push('no credentialSubject.achievement.alignment');
    }
    if(problems.length) {
      die(`${file}: ${problems.join('; ')}`);
    }
    break;
  }
  case 'ld-variant': {
    const [file, out, ...flags] = args;
    const rdfc = flags.includes('--rdfc');
    const noTiny = rdfc || flags.includes('--no-tiny');
    const noHighBmp = rdfc || flags.includes('--no-high-bmp');
    const removed = [];
    const walk = (v, path) => {
      if(Array.isArray(v)) {
        v.forEach((x, i) => walk(x, `${path}.${i}`));
      } else if(v && typeof v === 'object') {
        for(const [k, x] of Object.entries(v)) {
          const p = path ? `${path}.${k}` : k;
          if(/[\u0000-\u001f]/.test(k) ||
            (noHighBmp && /[\ue000-\uffff]/.test(k)) ||
            (noTiny && typeof x === 'number' && x !== 0 &&
              Math.abs(x) < 1 && !String(x).includes('.'))) {
            delete v[k];
            removed.push(JSON.stringify(p));
          } else if(k !== '@context') {
            walk(x, p);
          }
        }
      }
    };
    const doc = load(file);
    walk(doc, '');
    save(out, doc);
    console.log(`removed: ${removed.join(', ') || 'nothing'}`);
    break;
  }
  case 'non-ascii': {
    const hits = args.filter(f => /[^\x00-\x7f]/.test(readFileSync(f, 'utf8')));
    if(!hits.length) {
      die('no file has non-ASCII text');
    }
    console.log(hits.join('\n'));
    break;
  }
  case 'add-context': {
    const [file, url, term, value, out] = args;
    const doc = load(file);
    doc['@context'] = [...[].concat(doc['@context']), url];
    doc[term] = value;
    save(out, doc);
    break;
  }
  case 'count-json': {
    const [file, want] = args;
    let values;
    try {
      values = parseStream(readFileSync(file, 'utf8'));
    } catch(e) {
      die(`${file}: not a sequence of JSON objects: ${e.message}`);
    }
    for(const v of values) {
      console.log(JSON.stringify(v));
    }
    if(values.length !== Number(want)) {
      die(`${file}: ${values.length} JSON values, want ${want}`);
    }
    const bad = values.filter(v => !v || typeof v !== 'object' ||
      Array.isArray(v) || v.valid === false || v.verified === false ||
      v.ok === false || (v.verdict !== undefined && v.verdict !== 'valid') ||
      (v.exit_code !== undefined && v.exit_code !== 0));
    if(bad.length) {
      die(`${file}: ${bad.length} object(s) not a valid result`);
    }
    break;
  }
  case 'check-outcome': {
    const [file, check, want] = args;
    let values;
    try {
      values = parseStream(readFileSync(file, 'utf8'));
    } catch(e) {
      die(`${file}: not JSON: ${e.message}: ${readFileSync(file, 'utf8')}`);
    }
    const checks = values.flatMap(v => (v && v.checks) || []);
    const hits = checks.filter(c => c.check === check);
    if(!hits.length) {
      die(`${file}: no "${check}" check in ${JSON.stringify(values)}`);
    }
    const good = want === 'pass' ? hits.every(c => c.outcome === want) :
      hits.some(c => c.outcome === want);
    if(!good) {
      die(hits.map(c => `"${check}" is ${c.outcome}, want ${want}: ` +
        c.reason).join('\n'));
    }
    break;
  }
  default:
    die(`unknown command ${cmd ?? ''} (see the header of jsontool.mjs)`);
}
