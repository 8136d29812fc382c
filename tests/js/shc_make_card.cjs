// Make SMART Health Cards with an independent implementation: @pathcheck/shc-sdk (node-jose + pako).
// Usage: node shc_make_card.cjs < request.json > cards.json
// request: {"iss": URL, "nbf": seconds, "bundle": FHIR Bundle, "types": [...], "key": optional private JWK}
// reply:   {"jws": compact JWS, "qr": "shc:/...", "jwks": {"keys": [public JWK]}, "key": private JWK}
'use strict';
const jose = require('node-jose');
const shc = require('@pathcheck/shc-sdk');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  let key;
  if (request.key) {
    key = await jose.JWK.asKey(request.key);
  } else {
    const store = jose.JWK.createKeyStore();
    key = await store.generate('EC', 'P-256', {alg: 'ES256', use: 'sig'});
    // SHC: kid is the RFC 7638 SHA-256 thumbprint, base64url.
    const kid = jose.util.base64url.encode(await key.thumbprint('SHA-256'));
    key = await jose.JWK.asKey({...key.toJSON(true), kid});
  }
  const payload = await shc.makeJWT({
    type: request.types || ['https://smarthealth.cards#health-card'],
    credentialSubject: {fhirVersion: '4.0.1', fhirBundle: request.bundle},
  }, request.iss, new Date(request.nbf * 1000));
  if (request.exp) payload.exp = request.exp;
  const jws = await shc.sign(payload, key.toJSON(true));
  const qr = await shc.pack(jws);
  process.stdout.write(JSON.stringify({jws, qr, jwks: {keys: [key.toJSON(false)]}, key: key.toJSON(true)}));
}

main().catch((err) => { console.error(err); process.exit(1); });
