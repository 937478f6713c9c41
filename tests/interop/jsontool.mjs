#!/usr/bin/env node
// Small JSON helpers for run.sh (so that CI needs no jq).
//
//   get FILE PATH                 print the value at PATH (strings raw)
//   set-issuer FILE DID OUT       issuer := DID (or issuer.id := DID)
//   strip-proof FILE OUT          remove "proof"
//   compact FILE OUT              same JSON without whitespace (not a tamper)
//   reorder FILE OUT              every object's keys reversed (not a tamper)
//   tamper KIND FILE OUT          change one signed value; KIND is one of
//                                 value | number | nfd | created | context
//                                 (context-append: allowed by the spec)
//   check-key FILE DID            a Multikey key-pair file for DID?
//   check-outcome FILE CHECK OUT  `microcred verify --json` output in FILE has
//                                 checks[].check == CHECK with outcome OUT
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
  if(kind === 'context') {
    // a signed context entry changed (3.0.3 -> 3.0.2 style): other meaning
    const ctx = [].concat(body['@context']);
    const last = ctx.length - 1;
    if(typeof ctx[last] !== 'string') {
      die('tamper context: last @context entry is not a URL');
    }
    ctx[last] = ctx[last].includes('3.0.3') ?
      ctx[last].replace('3.0.3', '3.0.2') : `${ctx[last]}?v=2`;
    body['@context'] = ctx;
    return `@context[${last}] -> ${ctx[last]}`;
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
    const hit = checks.find(c => c.check === check);
    if(!hit) {
      die(`${file}: no "${check}" check in ${JSON.stringify(values)}`);
    }
    if(hit.outcome !== want) {
      die(`"${check}" is ${hit.outcome}, want ${want}: ${hit.reason}`);
    }
    break;
  }
  default:
    die(`unknown command ${cmd ?? ''} (see the header of jsontool.mjs)`);
}
