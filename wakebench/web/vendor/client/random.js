// Random ids. Browsers and Node ≥ 19 have `globalThis.crypto`; Node 18 has it only behind
// --experimental-global-webcrypto, so there it comes from node:crypto.
const webcrypto = globalThis.crypto ?? (await import('node:crypto')).webcrypto;

/** `bytes` random bytes as lowercase hex. */
export function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  webcrypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A random lowercase UUID (v4), a valid rig id. */
export function randomUUID() {
  return webcrypto.randomUUID();
}
