import { createHash } from 'node:crypto';

// the namespace of Backflow's derived ids (a v4 UUID chosen once; changing it would change every derived id)
export const BACKFLOW_NAMESPACE = '6f1c9a57-2b8e-4d0a-9c3f-5e7b1d2a4c60';

/** RFC 9562 UUID version 5: the SHA-1 of the namespace and the name, so the same name always gives the same id. */
export function uuidV5(name: string, namespace = BACKFLOW_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
