#!/usr/bin/env node
// Generates the "issued elsewhere" fixtures in fixtures/elsewhere/ with
// JavaScript only (Digital Bazaar's libraries from npm), so that microcred is
// checked against credentials it did not make:
//
//   dcc-ed25519-2020/   a DCC-style VC 1.1 Open Badge 3.0 credential with an
//                       Ed25519Signature2020 proof (@digitalbazaar/
//                       ed25519-signature-2020 with an Ed25519VerificationKey2020
//                       key), issuer a did:key; and a tampered copy
//   credly-did-web/     a Credly-style VC 2.0 Open Badge 3.0 credential whose
//                       issuer is a did:web, signed with eddsa-rdfc-2022; its DID
//                       document (Multikey; and the same key as an
//                       Ed25519VerificationKey2020), a tampered copy, and a copy
//                       whose issuer.id is another did:web than the key's
//                       controller (validly signed by the first issuer's key)
//
//   node make-fixtures.mjs [--out DIR]     write the files (default
//                                          fixtures/elsewhere next to this file)
//   node make-fixtures.mjs --check [DIR]   regenerate in memory and compare
//                                          byte for byte; exit 1 on a difference
//
// Everything is deterministic: the keys come from fixed seeds (SHA-256 of a
// label below; these are test keys, public on purpose), `created` is fixed,
// and Ed25519 signatures are deterministic. So regenerating gives the same
// bytes as long as the libraries canonicalize alike.
import {createHash} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import jsigs from 'jsonld-signatures';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {Ed25519VerificationKey2020} from
  '@digitalbazaar/ed25519-verification-key-2020';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {addDidDocument, documentLoader} from './loader.mjs';
import {RDFC, makeSuite} from './lib.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;
const HERE = dirname(fileURLToPath(import.meta.url));

const seed = label => new Uint8Array(
  createHash('sha256').update(`microcred interop fixture: ${label}`).digest());

// ------------------------------------------------------------ DCC style
async function dccStyle() {
  const key = await Ed25519VerificationKey2020.generate(
    {seed: seed('dcc-style issuer')});
  const did = `did:key:${key.fingerprint()}`;
  key.controller = did;
  key.id = `${did}#${key.fingerprint()}`;
  const credential = {
    '@context': [
      'https://www.w3.org/2018/credentials/v1',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      'https://w3id.org/security/suites/ed25519-2020/v1'
    ],
    id: 'urn:uuid:9a1f4c2e-3b7d-4e58-a6c1-0d2e8f5b7a43',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: 'Gestion de projet agile — niveau 1',
    issuer: {
      type: ['Profile'],
      id: did,
      name: 'Collège d\u2019enseignement de Trois-Rivières-Ouest (exemple)',
      url: 'https://www.cegep-tro.example',
      image: {
        id: 'https://www.cegep-tro.example/logo.png',
        type: 'Image'
      }
    },
    issuanceDate: '2024-05-21T14:00:00Z',
    credentialSubject: {
      type: ['AchievementSubject'],
      name: 'Zoë Nguyễn',
      achievement: {
        id: 'urn:uuid:4c0b6f3d-52e1-4a7b-8f9e-1d3c5a7e9b20',
        type: ['Achievement'],
        achievementType: 'Certificate',
        name: 'Gestion de projet agile — niveau 1',
        description: 'La personne diplômée planifie un sprint, anime les ' +
          'cérémonies Scrum et mesure la vélocité de l\u2019équipe.',
        criteria: {
          narrative: 'Réussir l\u2019évaluation finale (≥ 70 %) et ' +
            'présenter une rétrospective d\u2019équipe.'
        },
        image: {
          id: 'https://www.cegep-tro.example/badges/agile-1.png',
          type: 'Image'
        }
      }
    }
  };
  const suite = new Ed25519Signature2020(
    {key, date: new Date('2024-05-21T14:00:05Z')});
  const signed = await jsigs.sign(credential, {
    suite, purpose: new AssertionProofPurpose(), documentLoader
  });
  const tampered = structuredClone(signed);
  tampered.credentialSubject.name = 'Zoé Nguyen';
  return {
    'dcc-ed25519-2020/credential.json': signed,
    'dcc-ed25519-2020/credential.tampered.json': tampered
  };
}

// ------------------------------------------------------------ Credly style
const CREDLY_ISSUER = 'did:web:www.credly.example:api:v1:obi:v3:issuers:' +
  '5b8a2c34-1f6e-4d7a-9c2b-8e4f1a6d3c90';
const CREDLY_OTHER_ISSUER = 'did:web:www.credly.example:api:v1:obi:v3:' +
  'issuers:0c7d9e21-6a4b-4f3c-b815-2e9d7f0a1c56';

async function credlyStyle() {
  const mk = await Ed25519Multikey.generate({seed: seed('credly-style issuer')});
  const publicKeyMultibase = mk.publicKeyMultibase;
  const vmId = `${CREDLY_ISSUER}#key-1`;
  const didDoc = {
    '@context': [
      'https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/multikey/v1'
    ],
    id: CREDLY_ISSUER,
    verificationMethod: [{
      id: vmId,
      type: 'Multikey',
      controller: CREDLY_ISSUER,
      publicKeyMultibase
    }],
    assertionMethod: [vmId]
  };
  // the same key as an Ed25519VerificationKey2020 (the older DID document
  // style, e.g. as did:web documents made with DCC's tools look)
  const didDoc2020 = {
    '@context': [
      'https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/suites/ed25519-2020/v1'
    ],
    id: CREDLY_ISSUER,
    verificationMethod: [{
      id: vmId,
      type: 'Ed25519VerificationKey2020',
      controller: CREDLY_ISSUER,
      publicKeyMultibase
    }],
    assertionMethod: [vmId]
  };
  addDidDocument(didDoc, 'credly-did-web/did.json');
  const {secretKey} = await mk.export(
    {raw: true, secretKey: true, canonicalize: true});
  const keyPair = await Ed25519Multikey.generate(
    {seed: secretKey, id: vmId, controller: CREDLY_ISSUER});

  const achievementId = 'https://www.credly.example/org/hochschule-nordstadt/' +
    'badge/datenanalyse-grundlagen';
  const credential = issuer => ({
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'
    ],
    id: 'https://www.credly.example/api/v1/obi/v3/credentials/' +
      'e3b7c9a1-2d4f-4b6a-8c1e-5f7a9d2b4c68',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: 'Grundlagen der Datenanalyse — Data Analysis Foundations',
    description: 'Digitales Abzeichen für die Grundlagen der Datenanalyse.',
    issuer: {
      id: issuer,
      type: ['Profile'],
      name: 'Hochschule Nordstadt – Zentrum für Weiterbildung',
      url: 'https://www.hochschule-nordstadt.example',
      image: {
        id: 'https://images.credly.example/organizations/nordstadt.png',
        type: 'Image'
      }
    },
    validFrom: '2025-03-14T09:26:53Z',
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [{
        type: 'IdentityObject',
        identityHash: 'sha256$' + createHash('sha256')
          .update('zoe.nguyen@mail.example' + 'c7Q2kP9x').digest('hex'),
        identityType: 'emailAddress',
        hashed: true,
        salt: 'c7Q2kP9x'
      }],
      achievement: {
        id: achievementId,
        type: ['Achievement'],
        achievementType: 'Badge',
        name: 'Grundlagen der Datenanalyse',
        description: 'Inhaber·innen dieses Abzeichens bereinigen Datensätze, ' +
          'berechnen Kennzahlen und stellen Ergebnisse grafisch dar – ' +
          '„praxisnah“ und reproduzierbar.',
        criteria: {
          id: 'https://www.hochschule-nordstadt.example/weiterbildung/datenanalyse',
          narrative: 'Erfolgreicher Abschluss des Kurses (40 Stunden) und ' +
            'der Abschlussprüfung mit mindestens 70 %.'
        },
        image: {
          id: 'https://images.credly.example/badges/datenanalyse.png',
          type: 'Image'
        },
        tag: ['Datenanalyse', 'Statistik', 'Größen & Maße'],
        alignment: [{
          type: ['Alignment'],
          targetName: 'Daten analysieren',
          targetUrl: 'http://data.europa.eu/esco/skill/' +
            '45e4f8ac-ba2c-4b0b-a5c5-fc2ae2f0cdd1',
          targetFramework: 'ESCO',
          targetType: 'ext:ESCOSkill'
        }, {
          type: ['Alignment'],
          targetName: 'Statistische Analyseverfahren anwenden',
          targetUrl: 'http://data.europa.eu/esco/skill/' +
            '9f3a1c52-7b2e-4e8d-a1f0-3c5d7e9b2a14',
          targetCode: 'S5.1.3',
          targetFramework: 'ESCO',
          targetType: 'ext:ESCOSkill'
        }],
        resultDescription: [{
          id: `${achievementId}#abschlusspruefung`,
          type: ['ResultDescription'],
          name: 'Abschlussprüfung',
          resultType: 'Percent',
          valueMin: '0',
          valueMax: '100',
          requiredValue: '70'
        }]
      },
      result: [{
        type: ['Result'],
        resultDescription: `${achievementId}#abschlusspruefung`,
        value: '92'
      }]
    },
    evidence: [{
      id: 'https://portfolio.example/zoe-nguyen/abschlussprojekt',
      type: ['Evidence'],
      name: 'Abschlussprojekt: Pünktlichkeit im öffentlichen Nahverkehr',
      narrative: 'Analyse von 1,2 Mio. Fahrtdaten; Bericht (12 S.) und ' +
        'Notebook.'
    }],
    credentialSchema: [{
      id: 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/' +
        'ob_v3p0_achievementcredential_schema.json',
      type: '1EdTechJsonSchemaValidator2019'
    }]
  });
  const sign = async c => jsigs.sign(c, {
    suite: await makeSuite(RDFC, {
      signer: keyPair.signer(), date: new Date('2025-03-14T09:27:00Z')
    }),
    purpose: new AssertionProofPurpose(), documentLoader
  });
  const signed = await sign(credential(CREDLY_ISSUER));
  const tampered = structuredClone(signed);
  tampered.credentialSubject.result[0].value = '97';
  // validly signed with the first issuer's key, but naming another issuer
  const mismatch = await sign(credential(CREDLY_OTHER_ISSUER));
  return {
    'credly-did-web/did.json': didDoc,
    'credly-did-web/did-ed25519-2020.json': didDoc2020,
    'credly-did-web/credential.json': signed,
    'credly-did-web/credential.tampered.json': tampered,
    'credly-did-web/credential.issuer-mismatch.json': mismatch
  };
}

// ------------------------------------------------------------ main
const args = process.argv.slice(2);
const check = args[0] === '--check';
let dir = join(HERE, 'fixtures', 'elsewhere');
if(check && args[1]) {
  dir = args[1];
} else if(args[0] === '--out' && args[1]) {
  dir = args[1];
} else if(args.length && !check) {
  console.error('usage: node make-fixtures.mjs [--out DIR] | --check [DIR]');
  process.exit(2);
}

const files = {...await dccStyle(), ...await credlyStyle()};
let differ = 0;
for(const [name, value] of Object.entries(files)) {
  const text = JSON.stringify(value, null, 2) + '\n';
  const path = join(dir, name);
  if(check) {
    const have = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if(have === text) {
      console.log(`same ${name}`);
    } else {
      differ++;
      console.log(`DIFFERENT ${name}${have === null ? ' (missing)' : ''}`);
    }
  } else {
    mkdirSync(dirname(path), {recursive: true});
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
if(check) {
  process.exitCode = differ ? 1 : 0;
}
