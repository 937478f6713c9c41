#!/usr/bin/env node
// Generates an Ed25519 Multikey key pair with @digitalbazaar/ed25519-multikey.
//
//   node keygen.mjs [--seed HEX64] OUT.json
//
// Writes the key-pair file (same shape as `microcred keygen`):
//   {"@context": "https://w3id.org/security/multikey/v1",
//    "id": "did:key:z6Mk…#z6Mk…", "type": "Multikey",
//    "controller": "did:key:z6Mk…",
//    "publicKeyMultibase": "z6Mk…", "secretKeyMultibase": "z3u2…"}
// and prints the DID on stdout. The secret key is the 32-byte seed
// (multicodec ed25519-priv, 0x8026). --seed makes the key deterministic.
import {writeFileSync} from 'node:fs';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

function usage(msg) {
  if(msg) {
    console.error(`keygen.mjs: ${msg}`);
  }
  console.error('usage: node keygen.mjs [--seed HEX64] OUT.json');
  process.exit(2);
}

let out;
let seed;
const argv = process.argv.slice(2);
for(let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if(a === '--seed') {
    const hex = argv[++i] || '';
    if(!/^[0-9a-fA-F]{64}$/.test(hex)) {
      usage('--seed needs 64 hex digits');
    }
    seed = Uint8Array.from(Buffer.from(hex, 'hex'));
  } else if(a === '-h' || a === '--help') {
    usage();
  } else if(a.startsWith('-')) {
    usage(`unknown option ${a}`);
  } else if(out === undefined) {
    out = a;
  } else {
    usage('only one OUT.json');
  }
}
if(!out) {
  usage('no OUT.json given');
}

const tmp = await Ed25519Multikey.generate(seed ? {seed} : {});
const fingerprint = tmp.publicKeyMultibase;
const controller = `did:key:${fingerprint}`;
const keyPair = await Ed25519Multikey.from({
  '@context': 'https://w3id.org/security/multikey/v1',
  type: 'Multikey',
  id: `${controller}#${fingerprint}`,
  controller,
  publicKeyMultibase: fingerprint,
  secretKeyMultibase: tmp.secretKeyMultibase
});
const exported = await keyPair.export({
  publicKey: true, secretKey: true, includeContext: true, canonicalize: true
});
const ordered = {
  '@context': exported['@context'],
  id: exported.id,
  type: exported.type,
  controller: exported.controller,
  publicKeyMultibase: exported.publicKeyMultibase,
  secretKeyMultibase: exported.secretKeyMultibase
};
writeFileSync(out, JSON.stringify(ordered, null, 2) + '\n', {mode: 0o600});
console.log(controller);
