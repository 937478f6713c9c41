#!/usr/bin/env python3
r"""Independent Data Integrity verifier for the interop harness (PyLD + cryptography).

usage: pyld_verify.py [--contexts INDEX.json] [--did-doc FILE]... [--vc] [--jcs-json-only]
                      [--json] FILE...
       pyld_verify.py [--contexts INDEX.json] --nquads FILE...   (PyLD's canonical N-Quads of
                      each document without its proof, for comparing verifiers)

Verifies Verifiable Credentials and Presentations secured with Ed25519 Data Integrity
proofs, the way a verifier in the field does, with no network access:

* cryptosuites: DataIntegrityProof with `eddsa-rdfc-2022` (JSON-LD expansion and RDFC-1.0 /
  URDNA2015 by PyLD) or `eddsa-jcs-2022` (RFC 8785 by the `rfc8785` package), and the legacy
  `Ed25519Signature2020` (same pipeline as eddsa-rdfc-2022). The verify algorithms are
  written here from W3C vc-di-eddsa (section 3.2.2 / 3.3.2 and the Ed25519Signature2020
  section): hash = SHA-256(canonical proof config) || SHA-256(canonical document),
  proofValue = base58btc multibase of the 64-byte Ed25519 signature.
* JSON-LD contexts come only from the index (--contexts, a JSON object mapping context URL
  to file path relative to the index's folder; default
  tests/interop/published-contexts/index.json). A context URL that is not in the index is an
  error naming the URL; nothing is ever fetched. Inline context objects work as usual.
* every FILE is read as JSON-LD first (whatever its cryptosuites): its contexts must be in the
  index and it must pass safe mode. An eddsa-jcs-2022 signature does not depend on JSON-LD,
  and Digital Bazaar's jcs suite loads no context; --jcs-json-only skips this document-level
  check (RDF-based proofs still expand the document, as their transformation requires).
* JSON-LD "safe mode": PyLD has no safe mode, so this script detects what a safe-mode
  processor (jsonld.js, used by Digital Bazaar) rejects: a property that no context defines
  (PyLD's on_property_dropped hook), and, in the expanded form, a relative or undefined
  @type, a relative @id, a relative datatype IRI, and an invalid @language tag.
* keys: did:key (Ed25519, z6Mk...) is resolved offline. Any other DID only from --did-doc
  files: a DID document, or a standalone verification-method document (id, type, controller,
  publicKeyMultibase). A standalone method whose controller has no DID document given is
  taken as authorized for every proof purpose. Verification method types: Multikey and
  Ed25519VerificationKey2020 (publicKeyMultibase, multicodec ed25519-pub).
* checks per proof: type/cryptosuite known; proofPurpose is assertionMethod for a credential
  or authentication for a presentation; the method is listed under that purpose in its
  controller's DID document; with --vc also that the method's controller is the
  credential's issuer (the presentation's holder, when it names one), as Digital Bazaar's
  CredentialIssuancePurpose does (the W3C vectors' issuer is not their key's controller);
  for eddsa-jcs-2022 with a proof @context, the document @context starts with it
  (vc-di-eddsa 3.3.2 step 4); the signature verifies (OpenSSL Ed25519 via `cryptography`).
  Every proof of a proof set must verify; `previousProof` (proof chains) is honoured. A
  credential must also be inside its validity period (validFrom/validUntil, or VC 1.1
  issuanceDate/expirationDate).
* a presentation verifies if its own proofs (if any) verify and every credential in
  `verifiableCredential` verifies.
* numbers: JSON-LD (eddsa-rdfc-2022) sees them as Python's json module reads them (integers
  exact at any size); JCS (eddsa-jcs-2022) reads them as IEEE 754 doubles, as RFC 8785
  requires (2^53+1 becomes 2^53).
* JCS is the `rfc8785` package (pure Python, small, typed, tested against the RFC's number
  serialization vectors) rather than code of our own: a second, independent RFC 8785
  implementation is the point of this tool.

PyLD 3.3.0 behaviours a reader of the results should know (this tool keeps them, so that
the harness records them): its N-Quads escape only \ " \n \r \t, so a literal holding U+0008,
U+000C, another C0 control or U+007F is written raw, where RDFC-1.0 canonical N-Quads (and
microcred, and rdf-canonize 5) write \b, \f, \u0001 ...; a relative IRI is resolved against
http://example.org/base/ when the base is "" (this tool passes base None instead).

Output: one line per FILE, `OK FILE` or `FAIL FILE: reason`; with --json one JSON object per
line: {"file": ..., "verified": true|false, "error": null|"reason"}. Exit 0 iff every FILE
verified, 1 if any failed, 2 on a usage error (bad option, unreadable index or DID document).
"""

import argparse
import copy
import datetime as dt
import hashlib
import json
import os
import re
import sys
import warnings

try:
    import rfc8785
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from pyld import jsonld
except ImportError as e:  # pragma: no cover
    sys.stderr.write(
        f"pyld_verify.py: missing Python package ({e}); install tests/interop/requirements.txt\n"
    )
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_INDEX = os.path.join(HERE, "published-contexts", "index.json")

SUITES_RDFC = {"eddsa-rdfc-2022"}
SUITES_JCS = {"eddsa-jcs-2022"}
LEGACY_ED2020 = "Ed25519Signature2020"
VM_TYPES = {"Multikey", "Ed25519VerificationKey2020"}
DID_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)
MAX_SAFE_INT = 2**53 - 1
ABS_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
BCP47 = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")


class VerifyError(Exception):
    """A reason for FAIL (one line)."""


class UsageError(Exception):
    """Exit 2."""


# --------------------------------------------------------------------------------------------
# JSON: no duplicate member names, no NaN/Infinity. Numbers are read the Python way (an
# integer exactly, whatever its size; a number with a fraction or exponent as a double), which
# is what JSON-LD processing (eddsa-rdfc-2022) sees; JCS reads them as I-JSON doubles instead
# (see _ijson).


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate member name {k!r}")
        obj[k] = v
    return obj


def _bad_constant(name):
    raise ValueError(f"{name} is not JSON")


def load_json_text(text):
    return json.loads(
        text,
        object_pairs_hook=_no_duplicates,
        parse_constant=_bad_constant,
    )


def load_json_file(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 ({e})") from None
    if text.startswith("\ufeff"):
        raise ValueError("starts with a byte-order mark")
    return load_json_text(text)


# --------------------------------------------------------------------------------------------
# base58btc / multibase / multicodec

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def b58decode(s):
    n = 0
    for c in s:
        if c not in B58_INDEX:
            raise VerifyError(f"invalid base58btc character {c!r}")
        n = n * 58 + B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    leading = len(s) - len(s.lstrip("1"))
    return b"\x00" * leading + body


def multibase_b58(value, what):
    if not isinstance(value, str) or not value.startswith("z"):
        raise VerifyError(f"{what} is not a base58btc multibase string (must start with 'z')")
    return b58decode(value[1:])


def ed25519_public_key_from_multibase(value, what):
    raw = multibase_b58(value, what)
    if len(raw) != 34 or raw[:2] != b"\xed\x01":
        raise VerifyError(f"{what} is not an Ed25519 public key (multicodec ed25519-pub, 0xed01)")
    return raw[2:]


# --------------------------------------------------------------------------------------------
# Document loader: contexts from the index only


class ContextIndex:
    def __init__(self, index_path):
        try:
            index = load_json_file(index_path)
        except FileNotFoundError:
            raise UsageError(
                f"context index {index_path} not found (pass --contexts INDEX.json)"
            ) from None
        except (OSError, ValueError) as e:
            raise UsageError(f"context index {index_path}: {e}") from None
        if not isinstance(index, dict):
            raise UsageError(f"context index {index_path}: not a JSON object")
        base = os.path.dirname(os.path.abspath(index_path))
        self.files = {}
        for url, entry in index.items():
            if isinstance(entry, dict):  # tolerate {"file": ...} / {"path": ...} entries
                entry = entry.get("file") or entry.get("path")
            if not isinstance(entry, str):
                raise UsageError(f"context index {index_path}: entry for {url} is not a path")
            self.files[url] = os.path.join(base, entry)
        self.cache = {}
        self.unknown = []

    def load(self, url, options=None):
        if url not in self.files:
            self.unknown.append(url)
            raise jsonld.JsonLdError(
                f"unknown context {url} (not in the context index; nothing is fetched)",
                "jsonld.LoadDocumentError",
                {"url": url},
                code="loading remote context failed",
            )
        if url not in self.cache:
            try:
                self.cache[url] = load_json_file(self.files[url])
            except (OSError, ValueError) as e:
                raise jsonld.JsonLdError(
                    f"context {url}: cannot read {self.files[url]}: {e}",
                    "jsonld.LoadDocumentError",
                    {"url": url},
                    code="loading remote context failed",
                ) from None
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(self.cache[url]),
        }


# --------------------------------------------------------------------------------------------
# DID / verification method resolution (offline)


class KeyResolver:
    def __init__(self):
        self.did_docs = {}  # DID -> DID document
        self.vm_docs = {}  # VM id -> standalone verification method

    def add_file(self, path):
        try:
            doc = load_json_file(path)
        except (OSError, ValueError) as e:
            raise UsageError(f"--did-doc {path}: {e}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            raise UsageError(f"--did-doc {path}: not a JSON object with an id")
        is_vm = (
            "type" in doc
            and "verificationMethod" not in doc
            and not any(r in doc for r in DID_RELATIONSHIPS)
        )
        if is_vm:
            if "#" not in doc["id"] and not doc.get("controller"):
                raise UsageError(f"--did-doc {path}: verification method without controller")
            self._put(self.vm_docs, doc["id"], doc, path)
        else:
            self._put(self.did_docs, doc["id"], doc, path)

    @staticmethod
    def _put(table, key, doc, path):
        if key in table and table[key] != doc:
            raise UsageError(f"--did-doc {path}: a different document for {key} was given already")
        table[key] = doc

    @staticmethod
    def _did_key_document(did):
        msid = did[len("did:key:") :]
        ed25519_public_key_from_multibase(msid, f"did:key {did}")
        vm_id = f"{did}#{msid}"
        vm = {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": msid}
        doc = {"id": did, "verificationMethod": [vm]}
        for rel in (
            "authentication",
            "assertionMethod",
            "capabilityInvocation",
            "capabilityDelegation",
        ):
            doc[rel] = [vm_id]
        return doc

    def did_document(self, did):
        if did.startswith("did:key:"):
            return self._did_key_document(did)
        return self.did_docs.get(did)

    @staticmethod
    def _abs(ref, did):
        if isinstance(ref, str) and ref.startswith("#"):
            return did + ref
        return ref

    def _find_in(self, doc, vm_id):
        did = doc["id"]
        candidates = list(_as_list(doc.get("verificationMethod")))
        for rel in DID_RELATIONSHIPS:
            candidates += [x for x in _as_list(doc.get(rel)) if isinstance(x, dict)]
        for vm in candidates:
            if isinstance(vm, dict) and self._abs(vm.get("id"), did) == vm_id:
                vm = dict(vm)
                vm["id"] = vm_id
                vm.setdefault("controller", did)
                return vm
        return None

    def resolve(self, vm_id, purpose):
        """Return (public key bytes, controller) for vm_id, authorized for purpose."""
        if not isinstance(vm_id, str) or not ABS_IRI.match(vm_id):
            raise VerifyError(f"verificationMethod {vm_id!r} is not an absolute IRI")
        did = vm_id.split("#", 1)[0]
        vm = None
        controller_doc = None
        if vm_id in self.vm_docs:
            vm = dict(self.vm_docs[vm_id])
            vm.setdefault("controller", did)
            controller_doc = self.did_document(vm["controller"])
        elif did.startswith("did:"):
            doc = self.did_document(did)
            if doc is None:
                raise VerifyError(
                    f"cannot resolve {did} offline (give its DID document with --did-doc)"
                )
            vm = self._find_in(doc, vm_id)
            if vm is None:
                raise VerifyError(f"DID document of {did} has no verification method {vm_id}")
            controller_doc = (
                doc if vm.get("controller") == did else self.did_document(vm["controller"])
            )
        else:
            raise VerifyError(
                f"cannot resolve verification method {vm_id} offline (give it with --did-doc)"
            )

        if vm.get("type") not in VM_TYPES:
            raise VerifyError(
                f"verification method {vm_id} has type {vm.get('type')!r} "
                f"(supported: {', '.join(sorted(VM_TYPES))})"
            )
        if "publicKeyMultibase" not in vm:
            raise VerifyError(f"verification method {vm_id} has no publicKeyMultibase")
        key = ed25519_public_key_from_multibase(
            vm["publicKeyMultibase"], f"{vm_id} publicKeyMultibase"
        )
        controller = vm.get("controller")
        if not isinstance(controller, str):
            raise VerifyError(f"verification method {vm_id} has no controller")

        if controller_doc is None:
            if vm_id in self.vm_docs:
                return key, controller  # standalone method, no DID document: trusted as given
            raise VerifyError(f"no DID document for controller {controller} of {vm_id}")
        if controller_doc.get("id") != controller:
            raise VerifyError(
                f"DID document {controller_doc.get('id')} is not {vm_id}'s controller {controller}"
            )
        allowed = [
            self._abs(x.get("id") if isinstance(x, dict) else x, controller_doc["id"])
            for x in _as_list(controller_doc.get(purpose))
        ]
        if vm_id not in allowed:
            raise VerifyError(
                f"{vm_id} is not listed under {purpose} in {controller}'s DID document"
            )
        return key, controller


# --------------------------------------------------------------------------------------------
# JSON-LD: safe-mode expansion checks and RDFC-1.0 canonicalization with PyLD


def _json_ld_options(index):
    # base None, not "": PyLD 3.3.0 resolves relative IRIs against its DEFAULT_BASE_IRI
    # (http://example.org/base/) when the base is "", which would hide an undefined type or a
    # relative @id from the safe-mode checks (and put example.org IRIs into the RDF).
    return {"documentLoader": index.load, "base": None, "processingMode": "json-ld-1.1"}


def _jsonld_failure(e, index):
    if index.unknown:
        url = index.unknown[-1]
        index.unknown.clear()
        return VerifyError(f"unknown context {url} (not in the context index; nothing is fetched)")
    msgs = []
    cur = e
    while cur is not None and len(msgs) < 6:
        text = str(cur).strip().splitlines()[0] if str(cur).strip() else type(cur).__name__
        if text not in msgs:
            msgs.append(text)
        cur = cur.__cause__ or getattr(cur, "cause", None)
    return VerifyError("JSON-LD error: " + ": ".join(msgs))


def _relative(iri):
    return not ABS_IRI.match(iri) or iri.startswith(jsonld.DEFAULT_BASE_IRI)


def _safe_mode_walk(node, problems, path="$"):
    if isinstance(node, list):
        for i, item in enumerate(node):
            _safe_mode_walk(item, problems, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        t = node.get("@type")
        if isinstance(t, str) and t != "@json" and _relative(t):
            problems.append(f"relative datatype {t!r} at {path}")
        lang = node.get("@language")
        if lang is not None and (not isinstance(lang, str) or not BCP47.match(lang)):
            problems.append(f"invalid @language {lang!r} at {path}")
        return
    for key, value in node.items():
        if key == "@type":
            for t in value if isinstance(value, list) else [value]:
                if not isinstance(t, str) or (_relative(t) and not t.startswith("_:")):
                    problems.append(f"type {t!r} is not defined by any context (at {path})")
        elif key == "@id":
            if isinstance(value, str) and _relative(value) and not value.startswith("_:"):
                problems.append(f"relative @id {value!r} at {path}")
        elif key.startswith("@"):
            _safe_mode_walk(value, problems, f"{path}.{key}")
        else:
            if _relative(key):
                problems.append(f"property {key!r} is not an absolute IRI (at {path})")
            _safe_mode_walk(value, problems, f"{path}.{key}")


def safe_expand(doc, index, what):
    dropped = []

    def on_dropped(prop):
        dropped.append(prop)

    index.unknown.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            expanded = jsonld.expand(doc, _json_ld_options(index), on_property_dropped=on_dropped)
        except Exception as e:  # noqa: BLE001 - PyLD raises several error types
            raise _jsonld_failure(e, index) from None
    problems = []
    for d in dropped:
        if d is None:
            problems.append("a property mapped to null is dropped")
        else:
            problems.append(f"property {d!r} is not defined by any context")
    for w in caught:
        problems.append(f"JSON-LD warning: {w.message}")
    _safe_mode_walk(expanded, problems)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise VerifyError(f"JSON-LD safe mode: {what}: {problems[0]}{more}")
    return expanded


def rdfc_canonical(doc, index, what):
    expanded = safe_expand(doc, index, what)
    opts = _json_ld_options(index)
    opts.update({"algorithm": "URDNA2015", "format": "application/n-quads"})
    try:
        nquads = jsonld.normalize(expanded, opts)
    except Exception as e:  # noqa: BLE001
        raise _jsonld_failure(e, index) from None
    try:
        return nquads.encode("utf-8")
    except UnicodeEncodeError:
        raise VerifyError(f"{what}: a string is not valid Unicode (lone surrogate)") from None


def _ijson(value):
    """RFC 8785 reads every number as an IEEE 754 double (I-JSON): an integer outside
    +-(2^53-1) becomes the nearest double, as in JavaScript."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return value
        try:
            return float(value)
        except OverflowError:
            raise VerifyError(f"number {value} is out of the range of an IEEE 754 double") from None
    if isinstance(value, list):
        return [_ijson(v) for v in value]
    if isinstance(value, dict):
        return {k: _ijson(v) for k, v in value.items()}
    return value


def jcs_canonical(value, what):
    try:
        return rfc8785.dumps(_ijson(value))
    except rfc8785.CanonicalizationError as e:
        raise VerifyError(f"{what}: not JCS-canonicalizable: {e}") from None


# --------------------------------------------------------------------------------------------
# Data Integrity verification


def _types(node):
    t = node.get("type", node.get("@type"))
    if isinstance(t, str):
        return [t]
    return t if isinstance(t, list) else []


def _id_of(value):
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        v = value.get("id")
        return v if isinstance(v, str) else None
    return None


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


XSD_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _parse_time(value, what):
    if not isinstance(value, str) or not XSD_DATETIME.match(value):
        raise VerifyError(f"{what} {value!r} is not an XML Schema dateTime")
    text = value.replace("Z", "+00:00")
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise VerifyError(f"{what} {value!r} is not a valid dateTime") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t


def check_proof_context(doc, proof):
    """vc-di-eddsa 3.3.2 step 4: the document @context must start with proof.@context."""
    pctx = _as_list(proof.get("@context"))
    dctx = _as_list(doc.get("@context"))
    if len(pctx) > len(dctx) or any(a != b for a, b in zip(pctx, dctx)):
        raise VerifyError("document @context does not start with the proof's @context")


def verify_one_proof(secured, proof, all_proofs, index, keys, expected_purpose, signer_must_be):
    if not isinstance(proof, dict):
        raise VerifyError("a proof is not a JSON object")
    ptype = proof.get("type")
    suite = proof.get("cryptosuite")
    if ptype == "DataIntegrityProof":
        if suite in SUITES_RDFC:
            kind = "rdfc"
        elif suite in SUITES_JCS:
            kind = "jcs"
        else:
            raise VerifyError(f"unsupported cryptosuite {suite!r}")
        name = suite
    elif ptype == LEGACY_ED2020:
        kind = "rdfc"
        name = LEGACY_ED2020
    else:
        raise VerifyError(f"unsupported proof type {ptype!r}")

    for field in ("verificationMethod", "proofPurpose", "proofValue"):
        if not isinstance(proof.get(field), str):
            raise VerifyError(f"{name} proof: {field} missing or not a string")
    if ptype == LEGACY_ED2020 and "created" not in proof:
        raise VerifyError(f"{name} proof: created missing")
    if "created" in proof:
        _parse_time(proof["created"], f"{name} proof created")
    if proof["proofPurpose"] != expected_purpose:
        raise VerifyError(
            f"{name} proof: proofPurpose is {proof['proofPurpose']!r}, expected {expected_purpose!r}"
        )

    signature = multibase_b58(proof["proofValue"], f"{name} proofValue")
    if len(signature) != 64:
        raise VerifyError(f"{name} proof: signature is {len(signature)} bytes, not 64")

    # The unsecured document: the secured one without `proof`; for a chained proof
    # (previousProof), with the proofs it names.
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    if "previousProof" in proof:
        wanted = _as_list(proof["previousProof"])
        matching = [p for p in all_proofs if isinstance(p, dict) and p.get("id") in wanted]
        if len(matching) != len(wanted) or not all(isinstance(w, str) for w in wanted):
            raise VerifyError(f"{name} proof: previousProof {wanted} not found in the proof set")
        unsecured["proof"] = matching  # VC Data Integrity 4.5: the list of matching proofs

    options = {k: v for k, v in proof.items() if k != "proofValue"}

    if kind == "jcs":
        if "@context" in options:
            try:
                check_proof_context(secured, options)
            except VerifyError as e:
                raise VerifyError(f"{name} proof: {e}") from None
            unsecured["@context"] = options["@context"]
        proof_c14n = jcs_canonical(options, f"{name} proof configuration")
        doc_c14n = jcs_canonical(unsecured, f"{name} document")
    else:
        # Proof configuration: the proof options with the document's @context (vc-di-eddsa
        # 3.2.5 step 4 / Ed25519Signature2020: the proof is canonicalized in the document's
        # context; a @context of the proof's own is replaced).
        config = dict(options)
        if "@context" in unsecured:
            config["@context"] = unsecured["@context"]
        else:
            config.pop("@context", None)
        proof_c14n = rdfc_canonical(config, index, f"{name} proof configuration")
        doc_c14n = rdfc_canonical(unsecured, index, f"{name} document")

    hash_data = hashlib.sha256(proof_c14n).digest() + hashlib.sha256(doc_c14n).digest()

    key, controller = keys.resolve(proof["verificationMethod"], expected_purpose)
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, hash_data)
    except InvalidSignature:
        raise VerifyError(f"{name} proof: signature does not verify") from None
    except ValueError as e:
        raise VerifyError(f"{name} proof: bad public key: {e}") from None

    if signer_must_be is not None and controller != signer_must_be[1]:
        raise VerifyError(
            f"{name} proof: {signer_must_be[0]} {signer_must_be[1]} is not the controller "
            f"{controller} of {proof['verificationMethod']}"
        )


def verify_proofs(doc, index, keys, expected_purpose, signer_must_be, required):
    proofs = _as_list(doc.get("proof"))
    if not proofs:
        if required:
            raise VerifyError("no proof")
        return
    for i, proof in enumerate(proofs):
        try:
            verify_one_proof(doc, proof, proofs, index, keys, expected_purpose, signer_must_be)
        except VerifyError as e:
            where = f"proof {i + 1} of {len(proofs)}: " if len(proofs) > 1 else ""
            raise VerifyError(where + str(e)) from None


def verify_credential(vc, index, keys, now, binding):
    if not isinstance(vc, dict):
        raise VerifyError("credential is not a JSON object")
    if "VerifiableCredential" not in _types(vc):
        raise VerifyError("type does not include VerifiableCredential")
    issuer = _id_of(vc.get("issuer"))
    if not issuer:
        raise VerifyError("credential has no issuer id")
    verify_proofs(
        vc, index, keys, "assertionMethod", ("issuer", issuer) if binding else None, required=True
    )
    # Validity period (VC 2.0 validFrom/validUntil, VC 1.1 issuanceDate/expirationDate).
    for field, must_be_past in (
        ("validFrom", True),
        ("issuanceDate", True),
        ("validUntil", False),
        ("expirationDate", False),
    ):
        if field in vc:
            t = _parse_time(vc[field], field)
            if must_be_past and t > now:
                raise VerifyError(f"not yet valid ({field} {vc[field]})")
            if not must_be_past and now >= t:
                raise VerifyError(f"expired ({field} {vc[field]})")


def verify_document(doc, index, keys, now, binding, jsonld_check):
    if not isinstance(doc, dict):
        raise VerifyError("not a JSON object")
    if jsonld_check:
        safe_expand(doc, index, "document")
    types = _types(doc)
    if "VerifiablePresentation" in types:
        holder = _id_of(doc.get("holder"))
        verify_proofs(
            doc,
            index,
            keys,
            "authentication",
            ("holder", holder) if holder and binding else None,
            required=False,
        )
        creds = _as_list(doc.get("verifiableCredential"))
        for i, vc in enumerate(creds):
            if not isinstance(vc, dict):
                raise VerifyError(
                    f"verifiableCredential[{i}]: only embedded credentials are supported"
                )
            if "EnvelopedVerifiableCredential" in _types(vc):
                raise VerifyError(
                    f"verifiableCredential[{i}]: enveloped credentials are not supported"
                )
            try:
                verify_credential(vc, index, keys, now, binding)
            except VerifyError as e:
                raise VerifyError(f"verifiableCredential[{i}]: {e}") from None
        return
    if "VerifiableCredential" in types:
        verify_credential(doc, index, keys, now, binding)
        return
    raise VerifyError("type includes neither VerifiableCredential nor VerifiablePresentation")


# --------------------------------------------------------------------------------------------


def main(argv):
    parser = argparse.ArgumentParser(
        prog="pyld_verify.py",
        description="Verify Ed25519 Data Integrity credentials/presentations offline (PyLD).",
    )
    parser.add_argument("--contexts", metavar="INDEX.json", default=DEFAULT_INDEX)
    parser.add_argument("--did-doc", metavar="FILE", action="append", default=[])
    parser.add_argument(
        "--vc",
        action="store_true",
        help="also require issuer (holder) = controller of each proof's verification method",
    )
    parser.add_argument(
        "--jcs-json-only",
        action="store_true",
        help="do not read the document as JSON-LD unless an RDF-based proof needs it",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--nquads",
        action="store_true",
        help="print the canonical N-Quads of each FILE without its proof; verify nothing",
    )
    parser.add_argument("files", metavar="FILE", nargs="+")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0

    try:
        index = ContextIndex(args.contexts)
        keys = KeyResolver()
        for path in args.did_doc:
            keys.add_file(path)
    except UsageError as e:
        sys.stderr.write(f"pyld_verify.py: {e}\n")
        return 2

    if args.nquads:
        jsonld.set_document_loader(index.load)
        status = 0
        for path in args.files:
            try:
                doc = load_json_file(path)
                unsecured = {k: v for k, v in doc.items() if k != "proof"}
                sys.stdout.write(rdfc_canonical(unsecured, index, "document").decode("utf-8"))
            except (OSError, ValueError, VerifyError) as e:
                sys.stderr.write(f"pyld_verify.py: {path}: {e}\n")
                status = 1
        return status

    # Belt and braces: PyLD's global loader too, so nothing can ever be fetched.
    jsonld.set_document_loader(index.load)

    now = dt.datetime.now(dt.timezone.utc)
    failed = 0
    for path in args.files:
        error = None
        try:
            try:
                doc = load_json_file(path)
            except OSError as e:
                raise VerifyError(f"cannot read: {e.strerror or e}") from None
            except (ValueError, RecursionError) as e:
                raise VerifyError(f"not valid JSON: {e}") from None
            verify_document(doc, index, keys, now, args.vc, not args.jcs_json_only)
        except VerifyError as e:
            error = str(e)
        except RecursionError:
            error = "document nested too deeply"
        except Exception as e:  # noqa: BLE001 - report, never crash on one file
            error = f"internal error: {type(e).__name__}: {e}"
        error = " ".join(error.split()) if error else None
        if error:
            failed += 1
        if args.json:
            print(json.dumps({"file": path, "verified": error is None, "error": error}))
        elif error:
            print(f"FAIL {path}: {error}")
        else:
            print(f"OK {path}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
