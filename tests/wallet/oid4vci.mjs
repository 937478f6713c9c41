#!/usr/bin/env node
// A wallet for OpenID for Verifiable Credential Issuance (pre-authorized code
// flow), built on Sphereon's client library (@sphereon/oid4vci-client, which
// speaks the v1.0 draft-15 shape; see FINDINGS.md), against a running issuer.
//
//   node oid4vci.mjs --offer-uri URI [options]
//
// The wallet makes a fresh Ed25519 key (Node's crypto) and its did:key (or
// did:jwk), then: offer (credential_offer_uri) -> Credential Issuer and
// Authorization Server metadata -> token (pre-authorized code, tx_code) ->
// nonce -> one credential request per credential configuration in the offer,
// each with a `jwt` key proof (typ openid4vci-proof+jwt, alg EdDSA, kid = the
// holder's DID URL, aud = the credential issuer, nonce = a c_nonce) signed by
// the holder key. Each received credential is written to OUT/credential-N.json
// (N from 1, in offer order) and must have credentialSubject.id = holder DID.
// Prints one JSON summary line on stdout; exit 0 on success (or on the
// expected error), 1 on failure, 2 on a usage error.
//
// Options:
//   --offer-uri URI     openid-credential-offer://?credential_offer_uri=...
//                       (or ?credential_offer=...)                  [required]
//   --pin CODE          the transaction code (tx_code) for the token request
//   --out DIR           where credential-N.json go (default: no files)
//   --did-method M      key (default) or jwk
//   --request-shape S   library (default): the library builds the credential
//                       request (draft 15: `proof`, credential_configuration_id);
//                       v1-proofs: OID4VCI 1.0 final's `proofs: {jwt: [..]}`;
//                       draft13: `format` + `credential_definition` + `proof`.
//                       The library cannot send these two, so the credential
//                       request (only) is then made with fetch and a proof JWT
//                       built here (typ openid4vci-proof+jwt, EdDSA, kid, aud,
//                       iat = now, nonce); offer, metadata, token and nonce
//                       still go through the library
//   --client C          v15 (default): OpenID4VCIClientV1_0_15; legacy: the
//                       library's OpenID4VCIClient (its acquireCredentials
//                       takes no configuration id, so offers of ONE
//                       configuration only; no fault options). The kid is
//                       given to fromURI, so the token request carries
//                       client_id=<holder DID>
//   --nonce-mode MODE   fresh   (default) the library's acquireNonce() (the
//                               nonce endpoint) before every credential request
//                       library the library's own choice: the token
//                               response's c_nonce if any, else ONE call to the
//                               nonce endpoint, then that nonce for every
//                               request (fails on a batch if nonces are
//                               single-use: a finding, not a wallet bug here)
//                       stale   a c_nonce the issuer never issued
//                       reuse   a c_nonce the issuer already accepted once
//   --aud-mode MODE     right (default) | wrong: the proof's aud is another
//                       issuer's identifier
//   --on-deferred CMD   when the issuer defers a credential (transaction_id),
//                       poll the deferred endpoint once (it must still be
//                       pending: 202), run CMD with sh (e.g. the institution
//                       releasing the credential), then poll until it comes
//   --replay-code       after the flow, present the same pre-authorized code
//                       to the token endpoint again
//   --expect-error CODE the run must end in an OAuth error response (4xx with
//                       {"error": CODE}) at the step that the options above
//                       break: the token request (no fault option: e.g. a
//                       wrong --pin), the credential request (--nonce-mode
//                       stale|reuse, --aud-mode wrong), the repeated token
//                       request (--replay-code). Success or any other error
//                       is a failure.
//
// Library use. The happy path uses OpenID4VCIClientV1_0_15 end to end:
// fromURI (offer + metadata), acquireAccessToken({pin}), acquireNonce(),
// acquireCredentials({credentialConfigurationId, proofCallbacks, kid, alg}).
// Those high-level methods throw a bare "failed with status: 400" and drop the
// error body, so a step that is EXPECTED to fail is done with the library's
// lower-level classes that return the response (AccessTokenClient for the
// token request; CredentialRequestClientBuilderV1_0_15 +
// ProofOfPossessionBuilder + CredentialRequestClient for the credential
// request), which is what the high-level methods call inside. Plain fetch is
// used only where the library cannot act: a deferred credential
// (transaction_id) is polled with fetch, because the library's V1_0_15 path
// never learns the deferred endpoint (see FINDINGS.md).
import {
  AccessTokenClient,
  CredentialRequestClientBuilderV1_0_15,
  OpenID4VCIClient,
  OpenID4VCIClientV1_0_15,
  ProofOfPossessionBuilder
} from '@sphereon/oid4vci-client';
import {execSync} from 'node:child_process';
import {
  ServerError, bound, decodeJws, http, makeHolder, parseArgs, randomToken,
  writeJson
} from './lib.mjs';

const SPEC = {
  'offer-uri': 'string', pin: 'string', out: 'string', 'did-method': 'string',
  'nonce-mode': 'string', client: 'string', 'request-shape': 'string', 'aud-mode': 'string', 'replay-code': 'bool',
  'expect-error': 'string', 'on-deferred': 'string', help: 'bool'
};

function usage(msg) {
  if(msg) {
    console.error(`oid4vci.mjs: ${msg}`);
  }
  console.error('usage: node oid4vci.mjs --offer-uri URI [--pin CODE] ' +
    '[--out DIR] [--did-method key|jwk] ' +
    '[--nonce-mode fresh|library|stale|reuse] [--aud-mode right|wrong] ' +
    '[--replay-code] [--expect-error CODE]');
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
if(!args.offerUri) {
  usage('--offer-uri is required');
}
const nonceMode = args.nonceMode ?? 'fresh';
const audMode = args.audMode ?? 'right';
if(!['fresh', 'library', 'stale', 'reuse'].includes(nonceMode)) {
  usage(`bad --nonce-mode ${nonceMode}`);
}
if(!['right', 'wrong'].includes(audMode)) {
  usage(`bad --aud-mode ${audMode}`);
}
const credentialFault = nonceMode === 'stale' || nonceMode === 'reuse' ||
  audMode === 'wrong';
if(credentialFault && !args.expectError) {
  usage('--nonce-mode stale|reuse and --aud-mode wrong need --expect-error');
}
if(args.replayCode && credentialFault) {
  usage('--replay-code cannot be combined with a credential-request fault');
}
const shape = args.requestShape ?? 'library';
if(!['library', 'v1-proofs', 'draft13'].includes(shape)) {
  usage(`bad --request-shape ${shape}`);
}
if(shape !== 'library' && (credentialFault || args.client === 'legacy')) {
  usage('--request-shape takes no credential fault and no --client legacy');
}
const clientKind = args.client ?? 'v15';
if(!['v15', 'legacy'].includes(clientKind)) {
  usage(`bad --client ${clientKind}`);
}
if(clientKind === 'legacy' && (credentialFault || args.replayCode ||
  args.expectError || nonceMode !== 'fresh')) {
  usage('--client legacy takes no fault options');
}
// which step is expected to fail
const failStep = !args.expectError ? null :
  args.replayCode ? 'replay-token' :
    credentialFault ? 'credential' : 'token';

const holder = makeHolder({method: args.didMethod ?? 'key'});
const proofs = []; // every key proof JWT the library asked us to sign
const summary = {
  ok: false, holder: holder.did, kid: holder.kid,
  didMethod: holder.method, nonceMode, audMode
};

// The proof of possession: the library builds {header, payload} and hands
// it to this callback, which signs it with the holder key (EdDSA).
const proofCallbacks = {
  signCallback: async (jwt, kid) => {
    if(kid !== holder.kid) {
      throw new Error(`library asked to sign for kid ${kid}, not ${holder.kid}`);
    }
    const jws = holder.signJws(jwt.header, jwt.payload);
    proofs.push(jws);
    return jws;
  }
};

/** Throws a ServerError for an OpenIDResponse that is not a success. */
function check(stage, response) {
  if(response.successBody && !response.errorBody) {
    return response.successBody;
  }
  throw new ServerError(stage, response.origResponse?.status,
    response.errorBody);
}

/** The credentials in a credential (or deferred) response body. */
function credentialsOf(body) {
  if(Array.isArray(body?.credentials)) {
    return body.credentials.map(c =>
      c && typeof c === 'object' && 'credential' in c ? c.credential : c);
  }
  if(body && 'credential' in body) { // draft 13 shape
    return [body.credential];
  }
  return [];
}

/**
 * The credential request done with the library's lower-level classes, with
 * the nonce and aud we choose; returns the library's OpenIDResponse.
 */
async function credentialRequest(client, configId, {nonce, aud}) {
  const builder = CredentialRequestClientBuilderV1_0_15.fromCredentialOffer({
    credentialOffer: client.credentialOffer,
    metadata: client.endpointMetadata
  });
  builder.withCredentialConfigurationId(configId);
  builder.withTokenFromResponse(client.state.accessTokenResponse);
  const proofInput = ProofOfPossessionBuilder.fromAccessTokenResponse({
    accessTokenResponse: {...client.state.accessTokenResponse, c_nonce: nonce},
    callbacks: proofCallbacks,
    version: client.version()
  }).withIssuer(aud).withAlg('EdDSA').withKid(holder.kid)
    .withAccessTokenNonce(nonce);
  return builder.build().acquireCredentialsUsingProof({
    proofInput, format: 'ldp_vc'
  });
}

/**
 * A credential request in a shape the library cannot send (plain fetch; see
 * --request-shape): returns the body of a 2xx answer, else throws.
 */
async function rawCredentialRequest(client, configId, nonce) {
  const meta = client.endpointMetadata;
  const jwt = holder.signJws(
    {typ: 'openid4vci-proof+jwt', alg: 'EdDSA', kid: holder.kid},
    {aud: client.getIssuer(), iat: Math.floor(Date.now() / 1000), nonce});
  proofs.push(jwt);
  let body;
  if(shape === 'v1-proofs') {
    body = {credential_configuration_id: configId, proofs: {jwt: [jwt]}};
  } else {
    const conf = meta.credentialIssuerMetadata
      .credential_configurations_supported[configId];
    body = {
      format: conf.format, credential_definition: conf.credential_definition,
      proof: {proof_type: 'jwt', jwt}
    };
  }
  summary.requestKeys = Object.keys(body);
  const r = await http(meta.credential_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${client.state.accessTokenResponse.access_token}`,
      'content-type': 'application/json', accept: 'application/json'
    },
    body: JSON.stringify(body)
  });
  if(r.status < 200 || r.status > 299 || !r.json) {
    throw new ServerError(`credential (${shape})`, r.status, r.json ?? r.text);
  }
  summary.responseKeys = Object.keys(r.json).sort();
  return {...r.json, access_token: client.state.accessTokenResponse.access_token};
}

/** Polls the deferred credential endpoint (plain fetch; see header). */
async function deferred(client, transactionId, token) {
  const endpoint =
    client.endpointMetadata.credentialIssuerMetadata.deferred_credential_endpoint;
  if(!endpoint) {
    throw new Error('deferred response (transaction_id) but the metadata ' +
      'has no deferred_credential_endpoint');
  }
  const poll = () => http(endpoint, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`, 'content-type': 'application/json'
    },
    body: JSON.stringify({transaction_id: transactionId})
  });
  const pending = r => r.status === 202 && r.json?.transaction_id ||
    r.status === 400 && r.json?.error === 'issuance_pending';
  summary.deferred = (summary.deferred ?? 0) + 1;
  if(args.onDeferred) {
    const r = await poll();
    if(!pending(r)) {
      throw new ServerError('deferred (before release)', r.status,
        r.json ?? r.text);
    }
    summary.deferredPending = {status: r.status, body: r.json};
    execSync(args.onDeferred, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {...process.env, TRANSACTION_ID: transactionId}
    });
  }
  for(let i = 0; i < 20; i++) {
    const r = await poll();
    if(r.status === 200) {
      return credentialsOf(r.json);
    }
    if(!pending(r)) {
      throw new ServerError('deferred', r.status, r.json ?? r.text);
    }
    const wait = Math.min(Number(r.json?.interval) || 1, 5);
    await new Promise(res => setTimeout(res, wait * 1000));
  }
  throw new Error('deferred credential still pending after 20 polls');
}

/**
 * The library's legacy OpenID4VCIClient, end to end (one configuration).
 * The kid is given to fromURI here, as many wallets do: the library then
 * sends client_id=<holder DID> with the token request.
 */
async function legacy() {
  const client = await OpenID4VCIClient.fromURI({
    uri: args.offerUri, kid: holder.kid, alg: 'EdDSA',
    retrieveServerMetadata: true,
    createAuthorizationRequestURL: false
  });
  const configIds = client.credentialOffer.credential_offer
    .credential_configuration_ids ?? [];
  Object.assign(summary, {
    credentialIssuer: client.getIssuer(), configurationIds: configIds
  });
  if(configIds.length !== 1) {
    throw new Error('--client legacy needs an offer of one configuration');
  }
  const tokenResponse = await client.acquireAccessToken({pin: args.pin});
  summary.tokenResponseKeys = Object.keys(tokenResponse).sort();
  const body = await client.acquireCredentials({
    credentialTypes: configIds[0], proofCallbacks, kid: holder.kid,
    alg: 'EdDSA', format: 'ldp_vc'
  });
  return credentialsOf(body);
}

async function main() {
  if(clientKind === 'legacy') {
    return finish(await legacy(), 1);
  }
  // 1. Offer and metadata (library: CredentialOfferClientV1_0_15 resolves the
  // credential_offer_uri, MetadataClientV1_0_15 the well-known documents).
  const client = await OpenID4VCIClientV1_0_15.fromURI({
    uri: args.offerUri, alg: 'EdDSA', retrieveServerMetadata: true,
    createAuthorizationRequestURL: false
  });
  const issuer = client.getIssuer();
  const configIds = client.getCredentialOfferConfigurationIds();
  const meta = client.endpointMetadata;
  Object.assign(summary, {
    credentialIssuer: issuer, configurationIds: configIds,
    tokenEndpoint: meta.token_endpoint,
    credentialEndpoint: meta.credential_endpoint,
    nonceEndpoint: meta.credentialIssuerMetadata?.nonce_endpoint,
    pinRequired: !!client.credentialOffer.userPinRequired
  });
  if(configIds.length === 0) {
    throw new Error('the offer names no credential_configuration_ids');
  }
  for(const id of configIds) {
    const conf = meta.credentialIssuerMetadata
      ?.credential_configurations_supported?.[id];
    if(!conf) {
      throw new Error(`offer names ${id}, which the issuer metadata's ` +
        'credential_configurations_supported lacks');
    }
  }

  // 2. Token.
  if(failStep === 'token') {
    const r = await new AccessTokenClient().acquireAccessToken({
      credentialOffer: client.credentialOffer,
      metadata: client.endpointMetadata,
      credentialIssuer: issuer,
      pin: args.pin
    });
    check('token', r);
    throw new Error('the token request succeeded');
  }
  const tokenResponse = await client.acquireAccessToken({pin: args.pin});
  summary.tokenResponseKeys = Object.keys(tokenResponse).sort();
  summary.tokenCNonce = !!tokenResponse.c_nonce;

  // 3. Credentials, one request per configuration in the offer.
  const aud = audMode === 'wrong' ? 'https://wrong-issuer.invalid/' +
    'institutions/north' : issuer;
  const received = [];
  if(failStep === 'credential') {
    const configId = configIds[0];
    let nonce;
    if(nonceMode === 'stale') {
      nonce = randomToken(24); // never issued by this issuer
    } else {
      nonce = await client.acquireNonce();
    }
    if(nonceMode === 'reuse') {
      const first = await credentialRequest(client, configId, {nonce, aud});
      const body = check('credential (first use of the nonce)', first);
      received.push(...credentialsOf(body));
    }
    const r = await credentialRequest(client, configId, {nonce, aud});
    check('credential', r);
    throw new Error('the credential request succeeded');
  }
  for(const configId of configIds) {
    if(nonceMode === 'fresh' || shape !== 'library') {
      await client.acquireNonce();
    }
    const body = shape !== 'library' ?
      await rawCredentialRequest(client, configId, client.state.cachedCNonce) :
      await client.acquireCredentials({
        credentialConfigurationId: configId, proofCallbacks,
        kid: holder.kid, alg: 'EdDSA', format: 'ldp_vc'
      });
    let creds = credentialsOf(body);
    if(creds.length === 0 && body.transaction_id) {
      creds = await deferred(client, body.transaction_id, body.access_token);
    }
    if(creds.length === 0) {
      throw new Error(`no credential in the response for ${configId}: ` +
        JSON.stringify(body).slice(0, 400));
    }
    received.push(...creds);
  }
  const last = decodeJws(proofs[proofs.length - 1]);
  summary.proofHeader = last.header;
  summary.proofPayloadKeys = Object.keys(last.payload).sort();
  summary.proofNonces = proofs.map(p => decodeJws(p).payload.nonce);

  // 4. Replay of the pre-authorized code.
  if(failStep === 'replay-token') {
    const r = await new AccessTokenClient().acquireAccessToken({
      credentialOffer: client.credentialOffer,
      metadata: client.endpointMetadata,
      credentialIssuer: issuer,
      pin: args.pin
    });
    check('token (replayed pre-authorized code)', r);
    throw new Error('the replayed pre-authorized code got a token');
  }

  finish(received, configIds.length);
}

/** Saves the credentials and checks their number and binding. */
function finish(received, expected) {
  summary.proofHeader ??= proofs.length ?
    decodeJws(proofs[proofs.length - 1]).header : undefined;
  summary.count = received.length;
  summary.files = [];
  const unbound = [];
  received.forEach((cred, i) => {
    if(args.out) {
      summary.files.push(writeJson(args.out, `credential-${i + 1}.json`, cred));
    }
    if(!bound(holder.did, cred)) {
      unbound.push(i + 1);
    }
  });
  if(received.length < expected) {
    throw new Error(`${received.length} credential(s) for ` +
      `${expected} configuration(s)`);
  }
  if(unbound.length) {
    throw new Error(`credential(s) ${unbound.join(', ')} not bound to ` +
      `${holder.did} (credentialSubject.id)`);
  }
  summary.ok = true;
}

try {
  await main();
  if(args.expectError) {
    summary.ok = false;
    summary.error = `expected ${args.expectError}, but the flow succeeded`;
  }
} catch(e) {
  summary.ok = false;
  if(e instanceof ServerError) {
    summary.errorStep = e.stage;
    summary.errorStatus = e.status;
    summary.errorBody = e.body;
  }
  const stageWanted = {
    token: 'token', credential: 'credential',
    'replay-token': 'token (replayed pre-authorized code)'
  }[failStep];
  if(args.expectError && e instanceof ServerError && e.stage === stageWanted &&
    e.code === args.expectError && e.status >= 400 && e.status < 500) {
    summary.ok = true;
    summary.expectedError = e.code;
  } else {
    summary.error = String(e?.message ?? e);
    if(args.expectError) {
      summary.error = `expected ${args.expectError} at the ${failStep} ` +
        `step: ${summary.error}`;
    }
  }
}
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);
