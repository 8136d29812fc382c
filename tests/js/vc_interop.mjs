// The VC 2.0 envelope checked by an independent implementation: Digital Bazaar's @digitalbazaar/vc with the
// eddsa-jcs-2022 Data Integrity cryptosuite and did:key (Ed25519 Multikey). Offline: every JSON-LD context
// comes from the npm packages (a document loader that never fetches).
// Usage: node vc_interop.mjs < request.json
//   {"op": "verify", "credential": {...}, "now": ISO time}     -> {"verified": bool, "error": text|null}
//   {"op": "issue", "credential": {...}, "seed": "<64 hex>"}   -> {"credential": {...}, "did": "did:key:..."}
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createSignCryptosuite, createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver} from '@digitalbazaar/did-method-key';
import {JsonLdDocumentLoader} from 'jsonld-document-loader';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import didContext from 'did-context';

const didKeyDriver = driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

const loader = new JsonLdDocumentLoader();
for (const map of [credentialsContexts, dataIntegrityContext.contexts, multikeyContext.contexts,
  didContext.contexts]) {
  for (const [url, document] of map) {
    loader.addStatic(url, document);
  }
}
const staticLoader = loader.build();

async function documentLoader(url) {
  if (url.startsWith('did:key:')) {
    const document = await didKeyDriver.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  return staticLoader(url);  // throws for anything not bundled: no network, ever
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (request.op === 'verify') {
    const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
    const now = request.now ? new Date(request.now) : undefined;
    const result = await vc.verifyCredential({credential: request.credential, suite, documentLoader, now});
    const error = result.verified ? null : String(
      result.error?.errors?.[0]?.message ?? result.error?.message ??
      result.results?.[0]?.error?.message ?? 'not verified');
    process.stdout.write(JSON.stringify({verified: result.verified, error}));
  } else if (request.op === 'issue') {
    const seed = Uint8Array.from(Buffer.from(request.seed, 'hex'));
    const probe = await Ed25519Multikey.generate({seed});
    const did = `did:key:${probe.publicKeyMultibase}`;
    const keyPair = await Ed25519Multikey.generate({seed, controller: did});
    const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: createSignCryptosuite()});
    const credential = {...request.credential, issuer: did};
    const signed = await vc.issue({credential, suite, documentLoader});
    process.stdout.write(JSON.stringify({credential: signed, did}));
  } else {
    throw new Error(`unknown op ${request.op}`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
