#!/usr/bin/env python3
"""Hostile requests against a running `microcred serve` (driven by tests/hostile/run.sh).

Python standard library only. Every check prints one line; the exit status is 1 if any
failed. Figures (time per request, the server's peak memory) are printed with the checks.
"""

import argparse
import copy
import http.client
import json
import os
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

FAILED = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f" ({detail})" if detail else ""), flush=True)
    if not ok:
        FAILED.append(what)


class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None, token=None, ctype="application/json",
                headers=None, timeout=60):
        """Sends raw bytes (or JSON for dicts); returns (status, headers, body bytes, seconds)."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        if body is not None and ctype:
            h["Content-Type"] = ctype
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        start = time.monotonic()
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in h.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            if body is not None:
                try:
                    conn.send(body)
                except (BrokenPipeError, ConnectionResetError):
                    # The server answered (413) and closed before the body was all sent.
                    pass
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data, time.monotonic() - start
        finally:
            conn.close()


def is_json_error(status, headers, data):
    if not headers.get("content-type", "").startswith("application/json"):
        return False
    try:
        doc = json.loads(data)
    except ValueError:
        return False
    return isinstance(doc, dict) and ("error" in doc or "errors" in doc or "verified" in doc)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1


def blank_node_bomb(vc, n):
    """The shape of issue #10: n blank nodes in the subject sharing three distinct values."""
    v = copy.deepcopy(vc)
    v["credentialSubject"]["http://e/x"] = [{"http://e/v": "abc"[i % 3]} for i in range(n)]
    return v


def compact(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


BODY_LIMIT = 1 << 20  # the service's default request body limit


def bomb_body(vc, n):
    """The request body of issue #10's reproduction: as many of n nodes as fit in 1 MiB."""
    while True:
        bomb = blank_node_bomb(vc, n)
        body = compact({"verifiableCredential": bomb})
        if len(body) <= BODY_LIMIT:
            return n, bomb, body
        n -= (len(body) - BODY_LIMIT) // 19 + 1


class Background:
    """Keeps fetching cheap endpoints while heavy requests run; records the worst latency."""

    def __init__(self, client, paths):
        self.client, self.paths = client, paths
        self.worst, self.errors, self.count = 0.0, [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            for p in self.paths:
                try:
                    s, _, _, t = self.client.request("GET", p, timeout=30)
                    self.worst = max(self.worst, t)
                    self.count += 1
                    if s != 200:
                        self.errors.append(f"{p}: {s}")
                except OSError as e:
                    self.errors.append(f"{p}: {e}")
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def concurrent_verifications(c, cheap, body, n, name):
    """n clients POST body to /credentials/verify at once while others fetch cheap paths:
    every answer must be JSON, 2xx/4xx or 503 with Retry-After, and the others served."""
    results = []

    def one():
        try:
            results.append(c.request("POST", "/credentials/verify", body, timeout=60))
        except OSError as e:
            results.append((0, {}, str(e).encode(), 0))

    with Background(c, cheap) as bg:
        threads = [threading.Thread(target=one) for _ in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    statuses = sorted({r[0] for r in results})
    bad = [r for r in results if not (200 <= r[0] < 500 or (r[0] == 503 and "retry-after" in r[1]))
           or not is_json_error(*r[:3])]
    check(not bad, f"{name}: {n} concurrent {len(body) // 1024} KiB verifications, every answer JSON, "
          "2xx/4xx or 503 with Retry-After",
          f"statuses {statuses}, slowest {max(r[3] for r in results):.2f} s")
    check(not bg.errors and bg.worst < 1.0, f"other requests served during {name}",
          f"{bg.count} served, worst {bg.worst * 1000:.0f} ms, errors {bg.errors[:3]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--db", required=True)
    a = ap.parse_args()
    c = Client(a.base)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    # --- setup: an institution, tokens, an achievement, one issued credential
    with open(os.path.join(root, "examples/issuer-profile.json")) as f:
        profile = json.load(f)
    s, _, d, _ = c.request("POST", "/v1/institutions", {"slug": "northbridge", "profile": profile},
                           token=a.admin)
    assert s in (200, 201), d
    s, _, d, _ = c.request("POST", "/v1/institutions/northbridge/tokens",
                           {"scopes": ["issue", "revoke", "manage"]}, token=a.admin)
    assert s in (200, 201), d
    token = json.loads(d)["token"]
    s, _, d, _ = c.request("POST", "/v1/institutions/northbridge/tokens",
                           {"scopes": ["manage"]}, token=a.admin)
    manage_only = json.loads(d)["token"]
    with open(os.path.join(root, "examples/achievements/df-101.json"), "rb") as f:
        s, _, d, _ = c.request("PUT", "/v1/institutions/northbridge/achievements/df-101", f.read(),
                               token=token)
    assert s in (200, 201), d
    s, _, d, _ = c.request("POST", "/v1/institutions/northbridge/credentials",
                           {"achievement": "df-101", "recipient": "did:example:x",
                            "results": {"final-assessment": "86", "status": "Completed"}},
                           token=token)
    assert s in (200, 201), d
    issued = json.loads(d)
    x_url = issued.get("url") or issued.get("id")
    x_id = x_url.rstrip("/").split("/")[-1]
    s, _, good_bytes, _ = c.request("GET", f"/credentials/{x_id}")
    assert s == 200, good_bytes
    good = json.loads(good_bytes)
    s, _, did_doc, _ = c.request("GET", "/institutions/northbridge/did.json")
    did_path = os.path.join(a.work, "did.json")
    with open(did_path, "wb") as f:
        f.write(did_doc)
    s, _, d, _ = c.request("POST", "/credentials/verify", {"verifiableCredential": good})
    check(s == 200 and json.loads(d).get("verified") is True, "the issued credential verifies",
          f"HTTP {s}")

    cheap = ["/healthz", f"/credentials/{x_id}"]

    # --- 1. the RDFC blank-node bomb: public verify, presentations, issuance, CLI
    for n in (10_000, 26_000, 55_000):
        n, bomb, body = bomb_body(good, n)
        with Background(c, cheap) as bg:
            s, h, d, t = c.request("POST", "/credentials/verify", body)
        check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0,
              f"POST /credentials/verify, {n} blank nodes ({len(body) // 1024} KiB): JSON 4xx in < 2 s",
              f"HTTP {s} in {t:.2f} s; other requests: {bg.count} served, worst {bg.worst * 1000:.0f} ms")
        check(not bg.errors and bg.worst < 1.0, f"other requests served during the {n}-node verify",
              f"errors {bg.errors[:3]}, worst {bg.worst * 1000:.0f} ms")
        path = os.path.join(a.work, f"bomb-{n}.json")
        with open(path, "wb") as f:
            f.write(compact(bomb))
        start = time.monotonic()
        p = subprocess.run([a.cli, "verify", "--issuer-key", did_path, path],
                           capture_output=True, timeout=60)
        t = time.monotonic() - start
        check(p.returncode == 2 and t < 2.0, f"microcred verify, {n} blank nodes: exit 2 in < 2 s",
              f"exit {p.returncode} in {t:.2f} s: {p.stdout.decode(errors='replace').strip()[-160:]}")
    bomb = blank_node_bomb(good, 26_000)
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "verifiableCredential": [bomb]}
    s, h, d, t = c.request("POST", "/presentations/verify", {"verifiablePresentation": vp})
    check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0,
          "POST /presentations/verify with a 26k-node credential: JSON 4xx in < 2 s", f"HTTP {s} in {t:.2f} s")
    unsigned = copy.deepcopy(bomb)
    unsigned.pop("proof", None)
    unsigned.pop("id", None)
    unsigned.pop("credentialStatus", None)
    s, h, d, t = c.request("POST", "/credentials/issue", {"credential": unsigned}, token=token)
    check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0,
          "POST /credentials/issue of a 26k-node credential: JSON 4xx in < 2 s", f"HTTP {s} in {t:.2f} s")

    # --- 2. malformed bodies
    deep = b"[" * 100_000 + b"]" * 100_000
    bodies = {
        "not JSON": b"{nope",
        "empty body": b"",
        "duplicate member names": b'{"verifiableCredential": {}, "verifiableCredential": {}}',
        "nesting 100,000 deep": deep,
        "invalid UTF-8": b'{"verifiableCredential": "\xff\xfe"}',
        "a 3 MiB string": b'{"verifiableCredential": "' + b"a" * (3 << 20) + b'"}',
        "wrong types": b'{"verifiableCredential": 42, "options": []}',
        "a lone surrogate escape": b'{"verifiableCredential": "\\ud800"}',
        "a number with 100,000 digits": b'{"verifiableCredential": 1' + b"0" * 100_000 + b"}",
    }
    for name, body in bodies.items():
        for path in ("/credentials/verify", "/presentations/verify"):
            s, h, d, t = c.request("POST", path, body)
            check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0,
                  f"POST {path}: {name} → JSON 4xx", f"HTTP {s} in {t:.2f} s")
    s, h, d, t = c.request("POST", "/credentials/verify", b"<x/>", ctype="application/xml")
    check(400 <= s < 500 and is_json_error(s, h, d), "wrong content type → JSON 4xx", f"HTTP {s}")
    dup_issue = (b'{"credential": {"name": "a", "name": "b"}, "options": {}}')
    s, h, d, _ = c.request("POST", "/credentials/issue", dup_issue, token=token)
    check(s == 400 and is_json_error(s, h, d), "issuance with duplicate member names → JSON 400",
          f"HTTP {s}: {d[:120]!r}")
    wrong_name = copy.deepcopy(unsigned)
    wrong_name["credentialSubject"].pop("http://e/x", None)
    wrong_name["name"] = 42
    s, h, d, _ = c.request("POST", "/credentials/issue", {"credential": wrong_name}, token=token)
    check(s == 422 and is_json_error(s, h, d) and b"name" in d, "issuance with `name: 42` → JSON 422 naming it",
          f"HTTP {s}: {d[:160]!r}")
    fine = copy.deepcopy(wrong_name)
    fine["name"] = good.get("name", "A credential")
    s, h, d, _ = c.request("POST", "/credentials/issue",
                           {"credential": fine, "options": {"type": "Ed25519Signature2018"}}, token=token)
    check(s == 422 and is_json_error(s, h, d), "issuance with options.type of another proof → JSON 422",
          f"HTTP {s}: {d[:160]!r}")

    # --- 2b. the wallet endpoints (OID4VCI, VC API exchanges): malformed forms, tokens, key
    # proofs and presentations get JSON 4xx; the blank-node bomb in a DID Authentication is
    # refused in bounded time; nothing is issued.
    s, _, d, _ = c.request("POST", "/v1/institutions/northbridge/offers",
                           {"credentials": [{"achievement": "df-101", "recipient": "h@example.org"}]},
                           token=token)
    check(s == 201, "an offer is made", f"HTTP {s}: {d[:160]!r}")
    offer = json.loads(d) if s == 201 else {}
    ex_path = urllib.parse.urlsplit(offer.get("exchangeUrl", "http://x/exchanges/none")).path
    tok_path = "/institutions/northbridge/oid4vci/token"
    form = "application/x-www-form-urlencoded"
    for name, body, ctype in [
        ("no body", b"", form), ("JSON instead of a form", b'{"grant_type": "x"}', "application/json"),
        ("a repeated parameter", b"grant_type=a&grant_type=b", form),
        ("invalid UTF-8", b"grant_type=\xff\xfe&pre-authorized_code=\xff", form),
        ("a 1 MiB code", b"grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code="
         + b"a" * (1 << 20), form),
        ("an unknown code", b"grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code=x", form),
    ]:
        s, h, d, t = c.request("POST", tok_path, body, ctype=ctype)
        check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0, f"token endpoint: {name} → JSON 4xx",
              f"HTTP {s} in {t:.2f} s: {d[:120]!r}")
    cred_path = "/institutions/northbridge/oid4vci/credential"
    for name, body, tok in [
        ("no token", b'{"proof": {"proof_type": "jwt", "jwt": "a.b.c"}}', None),
        ("an unknown token", b'{"proof": {"proof_type": "jwt", "jwt": "a.b.c"}}', "not-a-token"),
        ("not JSON", b"{nope", "not-a-token"), ("nesting 100,000 deep", deep, "not-a-token"),
    ]:
        s, h, d, t = c.request("POST", cred_path, body, token=tok)
        check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0, f"credential endpoint: {name} → JSON 4xx",
              f"HTTP {s} in {t:.2f} s: {d[:120]!r}")
    for name, body in [("not JSON", b"{nope"), ("an array", b"[]"), ("duplicate members", b'{"a": 1, "a": 2}'),
                       ("a presentation without a proof", json.dumps({"verifiablePresentation": {
                           "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                           "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}}).encode())]:
        s, h, d, t = c.request("POST", ex_path, body)
        check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0, f"exchange: {name} → JSON 4xx",
              f"HTTP {s} in {t:.2f} s: {d[:120]!r}")
    s, _, d, _ = c.request("POST", ex_path, {})
    challenge = json.loads(d).get("verifiablePresentationRequest", {}).get("challenge") if s == 200 else None
    check(s == 200 and challenge, "exchange: {} starts a DID Authentication", f"HTTP {s}: {d[:120]!r}")
    vp_bomb = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
               "verifiableCredential": [blank_node_bomb(good, 26_000)]}
    # Signed (in form) by the holder's did:key, so that checking it means canonicalizing it.
    holder_key = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    vp_bomb["proof"] = dict(good["proof"], proofPurpose="authentication", challenge=challenge,
                            domain=urllib.parse.urlsplit(a.base).netloc,
                            verificationMethod=f"did:key:{holder_key}#{holder_key}")
    with Background(c, cheap) as bg:
        s, h, d, t = c.request("POST", ex_path, {"verifiablePresentation": vp_bomb})
    check(400 <= s < 500 and is_json_error(s, h, d) and t < 2.0,
          "exchange: a DID Authentication with 26k blank nodes → JSON 4xx in < 2 s",
          f"HTTP {s} in {t:.2f} s: {d[:200]!r}")
    check(not bg.errors and bg.worst < 1.0, "other requests served during it",
          f"errors {bg.errors[:3]}, worst {bg.worst * 1000:.0f} ms")
    for path in ("/offers/%FF", "/offers/" + "0" * 32, "/offers/../../etc/passwd", "/exchanges/%00",
                 "/institutions/%FF/.well-known/openid-credential-issuer"):
        s, h, d, _ = c.request("GET" if "/offers" in path or "well-known" in path else "POST", path)
        check(400 <= s < 500 and is_json_error(s, h, d), f"{path} → JSON 4xx", f"HTTP {s}: {d[:80]!r}")
    s, _, d, _ = c.request("GET", "/v1/institutions/northbridge/offers", token=token)
    items = json.loads(d)["offers"][0]["items"] if s == 200 else []
    check(s == 200 and all(i["state"] == "ready" for i in items), "nothing was issued by any of it",
          f"HTTP {s}: {items}")

    # --- 3. paths and query strings
    for method, path, tok in [("GET", "/credentials/%FF", None), ("GET", "/institutions/%C0%AF/did.json", None),
                              ("GET", "/status/%FF%FE", None),
                              ("GET", "/v1/institutions/northbridge/credentials?limit=abc", token),
                              ("GET", "/v1/institutions/northbridge/credentials?limit=99999999999999999999", token),
                              ("GET", "/v1/institutions/northbridge/credentials?limit=%FF", token),
                              ("DELETE", "/credentials/verify", None), ("GET", "/no/such/endpoint", None)]:
        s, h, d, _ = c.request(method, path, token=tok)
        check(400 <= s < 500 and is_json_error(s, h, d), f"{method} {path} → JSON 4xx", f"HTTP {s}: {d[:80]!r}")

    # --- 4. nothing a caller sends can touch another credential
    smuggle = copy.deepcopy(fine)
    smuggle["credentialStatus"] = good["credentialStatus"]
    s, h, d, _ = c.request("POST", "/credentials/issue", {"credential": smuggle}, token=token)
    check(400 <= s < 500 and is_json_error(s, h, d),
          "issuance carrying another credential's status entry is refused", f"HTTP {s}: {d[:160]!r}")
    cid = f"urn:uuid:{uuid.uuid4()}"
    mine = copy.deepcopy(fine)
    mine["id"] = cid
    s1, _, d1, _ = c.request("POST", "/credentials/issue", {"credential": mine}, token=token)
    s2, h2, d2, _ = c.request("POST", "/credentials/issue", {"credential": mine}, token=token)
    check(s1 == 201 and s2 == 409 and is_json_error(s2, h2, d2), "a caller's urn:uuid id is unique",
          f"first HTTP {s1}, second HTTP {s2}")
    s, _, d, _ = c.request("GET", f"/credentials/{cid.split(':')[-1]}")
    check(s == 200 and json.loads(d).get("id") == cid, "a caller's urn:uuid id is fetchable", f"HTTP {s}")
    elsewhere = f"https://elsewhere.example/credentials/{uuid.uuid4()}"
    other = copy.deepcopy(fine)
    other["id"] = elsewhere
    s1, h1, _, _ = c.request("POST", "/credentials/issue", {"credential": other}, token=token)
    s2, h2, d2, _ = c.request("POST", "/credentials/issue", {"credential": other}, token=token)
    where = urllib.parse.urlsplit(h1.get("location", "")).path
    s3, _, d3, _ = c.request("GET", where) if where else (0, {}, b"{}", 0)
    check(s1 == 201 and s2 == 409 and is_json_error(s2, h2, d2) and s3 == 200
          and json.loads(d3).get("id") == elsewhere,
          "a caller's https id elsewhere is unique and fetchable here (Location)",
          f"HTTP {s1}, again HTTP {s2}, GET {where}: HTTP {s3}")
    for bad_id in ("did:example:credential", "credentials/1", "urn:uuid:NOT-A-UUID", 42):
        other["id"] = bad_id
        s, h, d, _ = c.request("POST", "/credentials/issue", {"credential": other}, token=token)
        check(s == 422 and is_json_error(s, h, d), f"a caller's id {bad_id!r} is refused", f"HTTP {s}")
    s, h, d, _ = c.request("POST", "/v1/institutions/northbridge/tokens", {"scopes": ["issue", "revoke"]},
                           token=manage_only)
    check(s == 403 and is_json_error(s, h, d), "a manage token cannot mint scopes it lacks", f"HTTP {s}")
    s, _, d, _ = c.request("GET", f"/credentials/{x_id}/status")
    x_status = json.loads(d) if s == 200 else {}
    check(x_status.get("revoked") is False and not x_status.get("suspended"),
          "credential X is untouched", d[:160].decode(errors="replace"))

    # --- 5. a flood of verifications: 200, 4xx or 503 + Retry-After, and the rest still served
    # 900 look-alike nodes: just under the N-degree cap, so each one really costs CPU.
    heavy = compact({"verifiableCredential": blank_node_bomb(good, 900)})
    concurrent_verifications(c, cheap, heavy, 48, "the flood")

    # --- 6. a stampede of full-size bodies: memory must not grow with the number of clients
    _, _, big = bomb_body(good, 55_000)
    concurrent_verifications(c, cheap, big, 200, "the stampede")
    peak = peak_rss_mib(a.pid)
    check(peak < 512, "memory bounded after the stampede", f"VmHWM {peak:.0f} MiB")

    # --- 7. files and logs
    for suffix in ("", "-wal", "-shm"):
        p = a.db + suffix
        if os.path.exists(p):
            mode = stat.S_IMODE(os.stat(p).st_mode)
            check(mode & 0o077 == 0, f"{os.path.basename(p)} is private", oct(mode))
    c.request("GET", "/healthz?access_token=secret-marker-in-query")
    c.request("GET", "/v1/institutions/northbridge/credentials?limit=1&secret-marker-2", token=token)
    time.sleep(0.3)
    with open(a.log, "rb") as f:
        log = f.read()
    check(len(log) > 0, "the server logged at trace level", f"{len(log)} bytes")
    for secret, name in ((a.admin, "admin token"), (token, "API token"), ("secret-marker", "a query string")):
        check(secret.encode() not in log, f"the log never carries {name}")

    peak = peak_rss_mib(a.pid)
    check(0 < peak < 512, "the server's peak memory stays under 512 MiB", f"VmHWM {peak:.0f} MiB")
    s, _, _, _ = c.request("GET", "/healthz")
    check(s == 200, "the server is still up")
    if FAILED:
        print(f"{len(FAILED)} hostile-request checks failed")
        sys.exit(1)
    print("all hostile-request checks passed")


if __name__ == "__main__":
    main()
