//! `ssi-verify`: SpruceID `ssi` as an independent, offline Data Integrity verifier for the
//! interop harness (same interface as `tests/interop/pyld_verify.py`).
//!
//! ```text
//! ssi-verify [--contexts INDEX.json] [--did-doc FILE]... [--vc] [--json] FILE...
//! ```
//!
//! What is ssi's and what is this tool's:
//! - **ssi** (0.16.0) parses each credential (`AnyJsonCredential`, VC 1.1 or 2.0) or
//!   presentation (`AnyJsonPresentation`) with its Data Integrity proofs (`AnySuite`), expands
//!   it as JSON-LD in ssi's strict mode (undefined terms are errors), canonicalizes, resolves
//!   the verification method through a `VerificationMethodDIDResolver`, checks that the
//!   method is authorized for the proof's `proofPurpose` in its controller's DID document,
//!   verifies every proof of a proof set, and checks the validity period. Its JSON-LD loader
//!   is a `ContextLoader` holding only the contexts of the index (no static ssi contexts, no
//!   network). ssi 0.16.0 implements `eddsa-rdfc-2022` and `Ed25519Signature2020` but **not
//!   `eddsa-jcs-2022`**: such proofs fail.
//! - **this tool** resolves `did:key` with ssi's `DIDKey` and every other DID only from
//!   `--did-doc` files; checks that `proofPurpose` is `assertionMethod` for a credential and
//!   `authentication` for a presentation (ssi accepts any purpose the key is authorized for);
//!   with `--vc`, that each proof's verification method is controlled by the credential's
//!   issuer (the presentation's holder); and verifies every credential embedded in a
//!   presentation (ssi's presentation verification does not, ssi#553).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use ssi::claims::data_integrity::{AnySuite, DataIntegrity};
use ssi::claims::vc::syntax::{AnyJsonCredential, AnyJsonPresentation};
use ssi::claims::VerificationParameters;
use ssi::dids::resolution::{self, Output};
use ssi::dids::{DIDKey, DIDMethodResolver, DIDResolver, StaticDIDResolver, DID};
use ssi::json_ld::{ContextLoader, Expandable};
use ssi::rdf::{AnyLdEnvironment, LdEnvironment};
use ssi::verification_methods::AnyMethod;

const USAGE: &str = "\
usage: ssi-verify [--contexts INDEX.json] [--did-doc FILE]... [--vc] [--json] FILE...
       ssi-verify [--contexts INDEX.json] --nquads FILE...

  --contexts INDEX.json  {context URL: file} (files relative to the index); default
                         tests/interop/published-contexts/index.json. Nothing is fetched.
  --did-doc FILE         a DID document, or a standalone verification method
                         (id, type, controller, publicKeyMultibase); did:key needs none
  --vc                   also require issuer (holder) = controller of each proof's key
  --json                 one {\"file\",\"verified\",\"error\"} object per line
  --nquads               print ssi's canonical N-Quads of each credential without its
                         proof, verify nothing (to compare with other verifiers)
exit: 0 all verified, 1 any failed, 2 usage error";

/// DIDs resolved offline: `did:key` computed by ssi, everything else from files.
struct OfflineDids {
    docs: StaticDIDResolver,
}

impl DIDResolver for OfflineDids {
    async fn resolve_representation<'a>(
        &'a self,
        did: &'a DID,
        options: resolution::Options,
    ) -> Result<Output<Vec<u8>>, resolution::Error> {
        if did.method_name() == "key" {
            DIDKey
                .resolve_method_representation(did.method_specific_id(), options)
                .await
        } else {
            self.docs.resolve_representation(did, options).await
        }
    }
}

/// DID documents given with --did-doc, as JSON (for the controller check) and for ssi.
#[derive(Default)]
struct DidDocs {
    /// DID -> DID document.
    documents: HashMap<String, Value>,
}

impl DidDocs {
    fn add_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--did-doc {}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| format!("--did-doc {}: not JSON: {e}", path.display()))?;
        let id = doc
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("--did-doc {}: no id", path.display()))?
            .to_owned();
        let relationships = [
            "verificationMethod",
            "authentication",
            "assertionMethod",
            "keyAgreement",
            "capabilityInvocation",
            "capabilityDelegation",
        ];
        let is_vm =
            doc.get("type").is_some() && !relationships.iter().any(|r| doc.get(r).is_some());
        let (did, document) = if is_vm {
            // A standalone verification method: make the DID document it implies, with the
            // method authorized for assertions and authentication (nothing else says otherwise).
            let controller = doc
                .get("controller")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| id.split('#').next().map(str::to_owned))
                .unwrap_or_default();
            let mut vm = doc.clone();
            if let Some(o) = vm.as_object_mut() {
                o.remove("@context");
                o.remove("secretKeyMultibase");
                o.insert("controller".into(), Value::String(controller.clone()));
            }
            let mut ctx = vec![Value::String("https://www.w3.org/ns/did/v1".into())];
            match doc.get("@context") {
                Some(Value::Array(a)) => ctx.extend(a.iter().cloned()),
                Some(c) => ctx.push(c.clone()),
                None => {}
            }
            ctx.dedup();
            let document = serde_json::json!({
                "@context": ctx,
                "id": controller,
                "verificationMethod": [vm],
                "assertionMethod": [id],
                "authentication": [id],
            });
            (controller, document)
        } else {
            (id, doc)
        };
        if let Some(previous) = self.documents.get(&did) {
            if previous != &document {
                return Err(format!(
                    "--did-doc {}: a different document for {did} was given already",
                    path.display()
                ));
            }
        }
        self.documents.insert(did, document);
        Ok(())
    }

    fn resolver(&self) -> Result<OfflineDids, String> {
        let mut docs = StaticDIDResolver::new();
        for (did, document) in &self.documents {
            let did_buf = ssi::dids::DIDBuf::from_string(did.clone())
                .map_err(|e| format!("--did-doc: {did} is not a DID: {e}"))?;
            let content_type = if document.get("@context").is_some() {
                "application/did+ld+json"
            } else {
                "application/did+json"
            };
            let bytes = serde_json::to_vec(document).map_err(|e| e.to_string())?;
            docs.insert(
                did_buf,
                Output::from_content(bytes, Some(content_type.to_owned())),
            );
        }
        Ok(OfflineDids { docs })
    }

    /// The controller of a verification method, for the --vc issuer/holder check.
    fn controller_of(&self, vm_id: &str) -> Option<String> {
        let did = vm_id.split('#').next()?;
        if did.starts_with("did:key:") {
            return Some(did.to_owned());
        }
        let doc = self.documents.get(did)?;
        let mut candidates: Vec<&Value> = Vec::new();
        for key in [
            "verificationMethod",
            "assertionMethod",
            "authentication",
            "capabilityInvocation",
            "capabilityDelegation",
        ] {
            if let Some(Value::Array(a)) = doc.get(key) {
                candidates.extend(a.iter().filter(|v| v.is_object()));
            }
        }
        candidates.into_iter().find_map(|vm| {
            let id = vm.get("id")?.as_str()?;
            let id = if id.starts_with('#') {
                format!("{did}{id}")
            } else {
                id.to_owned()
            };
            (id == vm_id).then(|| {
                vm.get("controller")
                    .and_then(Value::as_str)
                    .unwrap_or(did)
                    .to_owned()
            })
        })
    }
}

fn load_index(path: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "context index {}: {e} (pass --contexts INDEX.json)",
            path.display()
        )
    })?;
    let index: Value = serde_json::from_str(&text)
        .map_err(|e| format!("context index {}: not JSON: {e}", path.display()))?;
    let obj = index
        .as_object()
        .ok_or_else(|| format!("context index {}: not a JSON object", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut map = HashMap::new();
    for (url, entry) in obj {
        let file = match entry {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o
                .get("file")
                .or_else(|| o.get("path"))
                .and_then(Value::as_str)
                .unwrap_or(""),
            _ => "",
        };
        if file.is_empty() {
            return Err(format!(
                "context index {}: entry for {url} is not a path",
                path.display()
            ));
        }
        let file_path = base.join(file);
        let content = std::fs::read_to_string(&file_path)
            .map_err(|e| format!("context {url}: {}: {e}", file_path.display()))?;
        map.insert(url.clone(), content);
    }
    Ok(map)
}

fn types_of(v: &Value) -> Vec<&str> {
    match v.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn id_of(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

fn proofs_of(v: &Value) -> Vec<&Value> {
    match v.get("proof") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(p) => vec![p],
        None => Vec::new(),
    }
}

type Params = VerificationParameters<
    ssi::dids::VerificationMethodDIDResolver<OfflineDids, AnyMethod>,
    ContextLoader,
>;

struct Verifier {
    params: Params,
    docs: DidDocs,
    binding: bool,
}

impl Verifier {
    /// Checks of this tool (not ssi's): proofPurpose and, with --vc, the controller.
    fn check_proofs(
        &self,
        doc: &Value,
        purpose: &str,
        signer: Option<(&str, &str)>,
    ) -> Result<(), String> {
        let proofs = proofs_of(doc);
        for (i, proof) in proofs.iter().enumerate() {
            let which = if proofs.len() > 1 {
                format!("proof {} of {}: ", i + 1, proofs.len())
            } else {
                String::new()
            };
            let name = proof
                .get("cryptosuite")
                .or_else(|| proof.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            let declared = proof
                .get("proofPurpose")
                .and_then(Value::as_str)
                .unwrap_or("");
            if declared != purpose {
                return Err(format!(
                    "{which}{name} proof: proofPurpose is {declared:?}, expected {purpose:?}"
                ));
            }
            if let (true, Some((role, who))) = (self.binding, signer) {
                let vm = proof
                    .get("verificationMethod")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                match self.docs.controller_of(vm) {
                    Some(c) if c == who => {}
                    Some(c) => {
                        return Err(format!(
                            "{which}{name} proof: {role} {who} is not the controller {c} of {vm}"
                        ))
                    }
                    None => {
                        return Err(format!("{which}{name} proof: no controller known for {vm}"))
                    }
                }
            }
        }
        Ok(())
    }

    async fn verify_credential(&self, vc: &Value) -> Result<(), String> {
        if !types_of(vc).contains(&"VerifiableCredential") {
            return Err("type does not include VerifiableCredential".into());
        }
        if proofs_of(vc).is_empty() {
            return Err("no proof".into());
        }
        let issuer = id_of(vc.get("issuer")).unwrap_or("");
        self.check_proofs(vc, "assertionMethod", Some(("issuer", issuer)))?;
        let text = serde_json::to_string(vc).map_err(|e| e.to_string())?;
        let secured: DataIntegrity<AnyJsonCredential, AnySuite> =
            ssi::claims::data_integrity::from_json_str(&text).map_err(|e| {
                format!(
                    "ssi: cannot read the credential: {}",
                    explain(&e.to_string(), vc)
                )
            })?;
        match secured.verify(&self.params).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(invalid)) => Err(format!("ssi: {}", explain(&invalid.to_string(), vc))),
            Err(e) => Err(format!("ssi: {}", explain(&e.to_string(), vc))),
        }
    }

    /// ssi's RDFC N-Quads of a credential without its proof (for comparing verifiers).
    async fn nquads(&self, doc: &Value) -> Result<String, String> {
        let text = serde_json::to_string(doc).map_err(|e| e.to_string())?;
        let secured: DataIntegrity<AnyJsonCredential, AnySuite> =
            ssi::claims::data_integrity::from_json_str(&text).map_err(|e| e.to_string())?;
        let mut ld = LdEnvironment::default();
        let expanded = secured
            .claims
            .expand_with(&mut ld, &self.params.json_ld_loader)
            .await
            .map_err(|e| e.to_string())?;
        let lines = ld.canonical_form_of(&expanded).map_err(|e| e.to_string())?;
        Ok(lines.concat())
    }

    async fn verify_document(&self, doc: &Value) -> Result<(), String> {
        if !doc.is_object() {
            return Err("not a JSON object".into());
        }
        let types = types_of(doc);
        if types.contains(&"VerifiablePresentation") {
            if !proofs_of(doc).is_empty() {
                let holder = id_of(doc.get("holder"));
                self.check_proofs(doc, "authentication", holder.map(|h| ("holder", h)))?;
                let text = serde_json::to_string(doc).map_err(|e| e.to_string())?;
                let secured: DataIntegrity<AnyJsonPresentation, AnySuite> =
                    ssi::claims::data_integrity::from_json_str(&text).map_err(|e| {
                        format!(
                            "ssi: cannot read the presentation: {}",
                            explain(&e.to_string(), doc)
                        )
                    })?;
                match secured.verify(&self.params).await {
                    Ok(Ok(())) => {}
                    Ok(Err(invalid)) => {
                        return Err(format!(
                            "presentation: ssi: {}",
                            explain(&invalid.to_string(), doc)
                        ))
                    }
                    Err(e) => {
                        return Err(format!(
                            "presentation: ssi: {}",
                            explain(&e.to_string(), doc)
                        ))
                    }
                }
            }
            let creds: Vec<&Value> = match doc.get("verifiableCredential") {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(v) => vec![v],
                None => Vec::new(),
            };
            for (i, vc) in creds.iter().enumerate() {
                if !vc.is_object() {
                    return Err(format!(
                        "verifiableCredential[{i}]: only embedded credentials are supported"
                    ));
                }
                self.verify_credential(vc)
                    .await
                    .map_err(|e| format!("verifiableCredential[{i}]: {e}"))?;
            }
            return Ok(());
        }
        if types.contains(&"VerifiableCredential") {
            return self.verify_credential(doc).await;
        }
        Err("type includes neither VerifiableCredential nor VerifiablePresentation".into())
    }
}

/// Adds what ssi's message may leave out: the proofs ssi 0.16.0 cannot verify.
fn explain(message: &str, doc: &Value) -> String {
    if let Some(rest) = message.split("loading document `").nth(1) {
        if message.contains("Unknown context") {
            let url = rest.split('`').next().unwrap_or("");
            return format!(
                "unknown context {url} (not in the context index; nothing is fetched) [{message}]"
            );
        }
    }
    if message.contains("unsupported cryptographic suite") {
        return message.to_owned();
    }
    if message.contains("DID document not found") {
        return format!(
            "{message} (only did:key is resolved offline; give other DID documents with --did-doc)"
        );
    }
    let unsupported: Vec<String> = proofs_of(doc)
        .iter()
        .filter_map(|p| {
            let t = p.get("type").and_then(Value::as_str).unwrap_or("");
            let c = p.get("cryptosuite").and_then(Value::as_str).unwrap_or("");
            match (t, c) {
                ("DataIntegrityProof", "eddsa-rdfc-2022") | ("Ed25519Signature2020", _) => None,
                ("DataIntegrityProof", c) => Some(c.to_owned()),
                (t, _) => Some(t.to_owned()),
            }
        })
        .collect();
    if unsupported.is_empty() {
        message.to_owned()
    } else {
        format!(
            "{message} (note: ssi 0.16.0 cannot verify this document's {} proof)",
            unsupported.join(", ")
        )
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

struct Args {
    contexts: PathBuf,
    did_docs: Vec<PathBuf>,
    binding: bool,
    json: bool,
    nquads: bool,
    files: Vec<String>,
}

fn default_index() -> PathBuf {
    // tests/ssi-verify -> tests/interop/published-contexts/index.json
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("interop")
        .join("published-contexts")
        .join("index.json")
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        contexts: default_index(),
        did_docs: Vec::new(),
        binding: false,
        json: false,
        nquads: false,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    let mut only_files = false;
    while let Some(a) = it.next() {
        if only_files || !a.starts_with("--") {
            args.files.push(a);
            continue;
        }
        match a.as_str() {
            "--" => only_files = true,
            "--contexts" => {
                args.contexts = it.next().ok_or("--contexts needs INDEX.json")?.into();
            }
            "--did-doc" => args
                .did_docs
                .push(it.next().ok_or("--did-doc needs FILE")?.into()),
            "--vc" => args.binding = true,
            "--json" => args.json = true,
            "--nquads" => args.nquads = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.files.is_empty() {
        return Err("no FILE given".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ssi-verify: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let setup = || -> Result<Verifier, String> {
        let contexts = load_index(&args.contexts)?;
        let loader = ContextLoader::empty()
            .with_context_map_from(contexts)
            .map_err(|e| format!("context index {}: {e}", args.contexts.display()))?;
        let mut docs = DidDocs::default();
        for path in &args.did_docs {
            docs.add_file(path)?;
        }
        let resolver = docs.resolver()?.into_vm_resolver::<AnyMethod>();
        let params = VerificationParameters::from_resolver(resolver).with_json_ld_loader(loader);
        Ok(Verifier {
            params,
            docs,
            binding: args.binding,
        })
    };
    let verifier = match setup() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("ssi-verify: {e}");
            return ExitCode::from(2);
        }
    };

    // A panic inside ssi (e.g. on a number it cannot convert) is reported per file.
    std::panic::set_hook(Box::new(|_| {}));
    if args.nquads {
        let mut status = ExitCode::SUCCESS;
        for file in &args.files {
            let out = std::fs::read_to_string(file)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
                .and_then(|doc| {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        futures_executor::block_on(verifier.nquads(&doc))
                    }))
                    .unwrap_or_else(|p| Err(format!("ssi panicked: {}", panic_text(p.as_ref()))))
                });
            match out {
                Ok(text) => print!("{text}"),
                Err(e) => {
                    eprintln!("ssi-verify: {file}: {e}");
                    status = ExitCode::from(1);
                }
            }
        }
        return status;
    }

    let mut failed = false;
    for file in &args.files {
        let result = match std::fs::read_to_string(file) {
            Err(e) => Err(format!("cannot read: {e}")),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Err(e) => Err(format!("not valid JSON: {e}")),
                // A panic inside ssi (e.g. on a number it cannot convert) is a FAIL, not a crash.
                Ok(doc) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    futures_executor::block_on(verifier.verify_document(&doc))
                }))
                .unwrap_or_else(|p| Err(format!("ssi panicked: {}", panic_text(p.as_ref())))),
            },
        };
        let error = result
            .err()
            .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "));
        failed |= error.is_some();
        if args.json {
            // Written by hand to keep the member order file, verified, error.
            println!(
                "{{\"file\":{},\"verified\":{},\"error\":{}}}",
                Value::String(file.clone()),
                error.is_none(),
                error.clone().map_or(Value::Null, Value::String)
            );
        } else if let Some(e) = error {
            println!("FAIL {file}: {e}");
        } else {
            println!("OK {file}");
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
