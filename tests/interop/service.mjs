#!/usr/bin/env node
// Drives a running `microcred serve` over HTTP the way an institution and a
// learner's wallet do (README, "The issuer service"), and saves what a
// verifier in the field would fetch from it, for run.sh's checks.
//
//   node service.mjs --local http://127.0.0.1:PORT --admin TOKEN
//                    --examples DIR --out DIR
//
// Steps: create an institution (did:web, suspension entries on), an API token
// (issue, revoke, manage), put every DIR/achievements/*.json in the catalogue;
// issue one credential per achievement (POST .../credentials, eddsa-rdfc-2022,
// plus one eddsa-jcs-2022), a batch (POST .../credentials/batch, JSON rows
// with both suites, and CSV), and two through the W3C VC API
// (POST /credentials/issue, both suites); fetch every credential from its URL
// byte for byte (Accept: application/vc+ld+json), the institution's DID
// document (/institutions/{slug}/did.json), the baked PNG of one credential
// (/credentials/{id}/badge.png); revoke one credential; then fetch every
// status list the credentials name (GET /status/{list}).
//
// The service's ids use its public base URL (--base-url, e.g.
// https://issuer.interop.example); this script reaches it at --local and maps
// each public URL to the local one. Writes into --out: cred-*.json,
// did.json, status-*.json, badge-service.png, and manifest.json:
//   {did, didDocument, credentials: [{file, how, suite, id, url}],
//    statusLists: {URL: file}, revoked: file, notRevoked: [files],
//    badge: {file, credential}}
// Exit 1 with a message on any unexpected answer.
import {mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {basename, join} from 'node:path';

function usage(msg) {
  if(msg) {
    console.error(`service.mjs: ${msg}`);
  }
  console.error('usage: node service.mjs --local URL --admin TOKEN ' +
    '--examples DIR --out DIR');
  process.exit(2);
}

const opts = {};
const argv = process.argv.slice(2);
for(let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, '');
  if(!['local', 'admin', 'examples', 'out'].includes(k) ||
    argv[i + 1] === undefined) {
    usage(`bad argument ${argv[i]}`);
  }
  opts[k] = argv[i + 1];
}
for(const k of ['local', 'admin', 'examples', 'out']) {
  if(!opts[k]) {
    usage(`--${k} is required`);
  }
}
const LOCAL = opts.local.replace(/\/$/, '');
const SLUG = 'northbridge';
mkdirSync(opts.out, {recursive: true});
const out = f => join(opts.out, f);

let publicBase; // learned from the first id the service mints

async function http(method, path, {token, json, body, type, accept,
  headers = {}, want = [200, 201]} = {}) {
  const h = {...headers};
  if(token) {
    h.Authorization = `Bearer ${token}`;
  }
  if(json !== undefined) {
    body = JSON.stringify(json);
    type = 'application/json';
  }
  if(type) {
    h['Content-Type'] = type;
  }
  if(accept) {
    h.Accept = accept;
  }
  const url = path.startsWith('http') ? path : LOCAL + path;
  const r = await fetch(url, {method, headers: h, body});
  const bytes = Buffer.from(await r.arrayBuffer());
  if(!want.includes(r.status)) {
    throw new Error(`${method} ${url}: HTTP ${r.status}: ` +
      bytes.toString('utf8').slice(0, 600));
  }
  return {status: r.status, bytes, headers: r.headers,
    json: () => JSON.parse(bytes.toString('utf8'))};
}

/** A public URL minted by the service -> the same resource on --local. */
function local(url) {
  if(!publicBase) {
    throw new Error('public base URL not known yet');
  }
  if(!url.startsWith(publicBase + '/')) {
    throw new Error(`${url} is not under the service's base URL ${publicBase}`);
  }
  return LOCAL + url.slice(publicBase.length);
}

function resultsFor(ach) {
  const results = {};
  for(const rd of [].concat(ach.resultDescription || [])) {
    const name = String(rd.id || '').split('/').pop();
    if(rd.resultType === 'Percent') {
      results[name] = '86';
    } else if(rd.resultType === 'Status') {
      results[name] = 'Completed';
    }
  }
  return results;
}

const manifest = {credentials: [], statusLists: {}};
const saved = new Set();

/** GET the credential at its URL (bytes as served) into cred-NAME.json. */
async function saveCredential(url, how, suite, name) {
  const r = await http('GET', local(url), {accept: 'application/vc+ld+json'});
  const ct = r.headers.get('content-type') || '';
  if(!ct.startsWith('application/vc+ld+json')) {
    throw new Error(`GET ${url}: content-type ${ct}, want application/vc+ld+json`);
  }
  const file = `cred-${name}.json`;
  if(saved.has(file)) {
    throw new Error(`two credentials named ${file}`);
  }
  saved.add(file);
  writeFileSync(out(file), r.bytes);
  const cred = r.json();
  if(cred.id !== url) {
    throw new Error(`${url}: the credential's id is ${cred.id}`);
  }
  const got = [].concat(cred.proof || []).map(p => p.cryptosuite).join(',');
  if(got !== suite) {
    throw new Error(`${url}: proof suite ${got}, want ${suite}`);
  }
  if(!cred.credentialStatus) {
    throw new Error(`${url}: no credentialStatus`);
  }
  manifest.credentials.push({file, how, suite, id: cred.id, url});
  return {file, cred};
}

try {
  const profile = JSON.parse(
    readFileSync(join(opts.examples, 'issuer-profile.json'), 'utf8'));
  delete profile.id; // the service gives the institution its did:web
  const inst = (await http('POST', '/v1/institutions', {
    token: opts.admin, json: {slug: SLUG, profile, suspension: true}
  })).json();
  const tok = (await http('POST', `/v1/institutions/${SLUG}/tokens`, {
    token: opts.admin, json: {scopes: ['issue', 'revoke', 'manage'],
      label: 'interop'}
  })).json().token;
  if(!tok) {
    throw new Error('no token in the answer of POST .../tokens');
  }

  // the catalogue
  const achDir = join(opts.examples, 'achievements');
  const achievements = readdirSync(achDir).filter(f => f.endsWith('.json'))
    .sort().map(f => ({slug: basename(f, '.json'),
      def: JSON.parse(readFileSync(join(achDir, f), 'utf8')),
      bytes: readFileSync(join(achDir, f))}));
  for(const a of achievements) {
    await http('PUT', `/v1/institutions/${SLUG}/achievements/${a.slug}`, {
      token: tok, body: a.bytes, type: 'application/json'});
  }

  // single issuance: every achievement (rdfc), the first also with jcs
  const single = [];
  for(const a of achievements) {
    for(const suite of a === achievements[0] ?
      ['eddsa-rdfc-2022', 'eddsa-jcs-2022'] : ['eddsa-rdfc-2022']) {
      const r = (await http('POST', `/v1/institutions/${SLUG}/credentials`, {
        token: tok,
        headers: {'Idempotency-Key': `interop-${a.slug}-${suite}`},
        json: {achievement: a.slug, cryptosuite: suite,
          recipient: `learner-${a.slug}@example.org`,
          results: resultsFor(a.def),
          evidence: [`https://portfolio.example/${a.slug}`]}
      })).json();
      const url = r.url || (r.credential && r.credential.id);
      if(!url) {
        throw new Error('no url in the issuance answer: ' +
          JSON.stringify(r).slice(0, 300));
      }
      if(!publicBase) {
        publicBase = url.slice(0, url.indexOf('/credentials/'));
        manifest.publicBase = publicBase;
      }
      single.push(await saveCredential(url, 'single', suite,
        `single-${a.slug}.${suite}`));
    }
  }

  // batch issuance: JSON rows (both suites), CSV
  const a0 = achievements[0];
  for(const suite of ['eddsa-rdfc-2022', 'eddsa-jcs-2022']) {
    const rows = [1, 2].map(i => ({recipient: `did:example:batch-${i}`,
      results: resultsFor(a0.def)}));
    const b = (await http('POST', `/v1/institutions/${SLUG}/credentials/batch`, {
      token: tok, headers: {'Idempotency-Key': `interop-batch-${suite}`},
      json: {achievement: a0.slug, cryptosuite: suite, rows}
    })).json();
    if(b.issued !== rows.length) {
      throw new Error(`batch (${suite}): ${JSON.stringify(b).slice(0, 400)}`);
    }
    for(const [i, row] of b.results.entries()) {
      await saveCredential(row.url, 'batch', suite,
        `batch-json-${i}.${suite}`);
    }
  }
  const resultCols = Object.keys(resultsFor(a0.def));
  const csv = ['recipient,' + resultCols.map(c => `result:${c}`).join(',') +
      ',evidence',
  `csv-learner@example.org,${resultCols.map(c => resultsFor(a0.def)[c])
    .join(',')},https://portfolio.example/csv`].join('\n') + '\n';
  const bc = (await http('POST', `/v1/institutions/${SLUG}/credentials/batch` +
    `?achievement=${a0.slug}`, {token: tok, body: csv, type: 'text/csv',
    headers: {'Idempotency-Key': 'interop-batch-csv'}})).json();
  if(bc.issued !== 1) {
    throw new Error(`batch (CSV): ${JSON.stringify(bc).slice(0, 400)}`);
  }
  await saveCredential(bc.results[0].url, 'batch', 'eddsa-rdfc-2022',
    'batch-csv-0.eddsa-rdfc-2022');

  // W3C VC API: an OB 3.0 AchievementCredential built by the caller
  const first = single[0].cred;
  for(const suite of ['eddsa-rdfc-2022', 'eddsa-jcs-2022']) {
    const unsigned = {
      '@context': first['@context'],
      type: ['VerifiableCredential', 'OpenBadgeCredential'],
      name: first.name,
      issuer: first.issuer,
      validFrom: new Date(Date.now() - 60000).toISOString()
        .replace(/\.\d+Z$/, 'Z'),
      credentialSubject: {
        // microcred's extension terms: the context map embedded in the subject
        ...(first.credentialSubject['@context'] ?
          {'@context': first.credentialSubject['@context']} : {}),
        id: `did:example:vcapi-${suite}`,
        type: ['AchievementSubject'],
        achievement: first.credentialSubject.achievement
      }
    };
    const r = await http('POST', '/credentials/issue', {token: tok,
      json: {credential: unsigned, options: {cryptosuite: suite}}});
    const vc = r.json().verifiableCredential;
    const url = vc && vc.id;
    if(!url) {
      throw new Error('VC API: no verifiableCredential.id: ' +
        r.bytes.toString().slice(0, 300));
    }
    const {file} = await saveCredential(url, 'vc-api', suite,
      `vcapi.${suite}`);
    // the answer holds the same credential as the URL serves
    const stored = JSON.parse(readFileSync(out(file), 'utf8'));
    if(JSON.stringify(stored) !== JSON.stringify(vc)) {
      throw new Error(`VC API: ${url} serves another credential than the ` +
        'issue answer');
    }
  }

  // the institution's DID document, as did:web resolution fetches it
  const didDoc = (await http('GET', `/institutions/${SLUG}/did.json`)).bytes;
  writeFileSync(out('did.json'), didDoc);
  manifest.didDocument = 'did.json';
  manifest.did = JSON.parse(didDoc.toString('utf8')).id;
  if(inst.did && inst.did !== manifest.did) {
    throw new Error(`institution did ${inst.did}, DID document id ` +
      manifest.did);
  }

  // the baked PNG the service serves for the first credential
  const badge = await http('GET', local(single[0].cred.id) + '/badge.png');
  writeFileSync(out('badge-service.png'), badge.bytes);
  manifest.badge = {file: 'badge-service.png', credential: single[0].file};

  // revoke one (the second single-issued rdfc credential)
  const victim = single.find((s, i) => i > 0 &&
    s.cred.proof.cryptosuite === 'eddsa-rdfc-2022') || single[0];
  const id = victim.cred.id.split('/').pop();
  await http('POST', `/v1/institutions/${SLUG}/credentials/${id}/revoke`, {
    token: tok, json: {reason: 'interop check: revoked on purpose'}});
  manifest.revoked = victim.file;
  manifest.notRevoked = manifest.credentials.map(c => c.file)
    .filter(f => f !== victim.file);

  // every status list named, as served now (after the revocation)
  let n = 0;
  for(const c of manifest.credentials) {
    const cred = JSON.parse(readFileSync(out(c.file), 'utf8'));
    for(const s of [].concat(cred.credentialStatus)) {
      const url = s.statusListCredential;
      if(manifest.statusLists[url]) {
        continue;
      }
      const r = await http('GET', local(url));
      const file = `status-${n++}-${s.statusPurpose}.json`;
      writeFileSync(out(file), r.bytes);
      manifest.statusLists[url] = file;
    }
  }
  writeFileSync(out('manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log(`service: ${manifest.credentials.length} credentials, ` +
    `${Object.keys(manifest.statusLists).length} status lists, DID ` +
    `${manifest.did}, revoked ${manifest.revoked}`);
} catch(e) {
  console.error(`service.mjs: ${e.message}`);
  process.exit(1);
}
