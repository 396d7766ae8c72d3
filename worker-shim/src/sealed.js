// Sealing of secrets kept in D1 (the alert settings, which hold inline channel URLs) with
// AES-256-GCM through WebCrypto. Crypto is I/O here: which keys are acceptable is the engine's
// check (security_configure's key_errors); this module only encrypts and decrypts.
//
// Keys: SECRETS_KEY (current: seals and opens) and SECRETS_KEY_PREVIOUS (optional: only opens,
// for a rotation). Each is stretched with HKDF-SHA256 (salt "r2watch-sealed", info
// "r2watch sealed v1 aes-256-gcm") into the AES key; its key id is the first 8 bytes of HKDF
// with info "r2watch sealed v1 key id", in hex, so a sealed value names the key that opens it
// without revealing it.
//
// Sealed text: `sealed:v1:<key id>:<12-byte iv, base64url>:<ciphertext+tag, base64url>`; the
// additional data is the place it is stored (`alert_config.settings_json`), so a sealed value
// copied to another column does not open. Text without the `sealed:` prefix was written before
// sealing and is read as it is; the next write (or POST /api/admin/secrets/rotate) seals it.

import { HttpError } from './http.js';

const PREFIX = 'sealed:v1:';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const unb64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

async function deriveKey(secret) {
  const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey', 'deriveBits']);
  const salt = encoder.encode('r2watch-sealed');
  const [key, id] = await Promise.all([
    crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt, info: encoder.encode('r2watch sealed v1 aes-256-gcm') },
      base,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    ),
    crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: encoder.encode('r2watch sealed v1 key id') }, base, 64),
  ]);
  return { key, id: hex(new Uint8Array(id)) };
}

/** True when `text` is sealed (as opposed to plain text written before sealing). */
export function isSealed(text) {
  return typeof text === 'string' && text.startsWith(PREFIX);
}

/**
 * The sealing keys of a runtime: `rt.security.key_errors` (the engine's check of
 * SECRETS_KEY / SECRETS_KEY_PREVIOUS) decides whether they may be used. Throws 503
 * `secrets_key_missing` naming SECRETS_KEY when the current key is refused.
 */
async function keysOf(rt) {
  const refused = rt.security?.key_errors ?? [];
  const current = refused.find((e) => e.field === 'SECRETS_KEY');
  if (current) throw new HttpError('secrets_key_missing', current.message, { field: 'SECRETS_KEY' });
  if (!rt.sealingKeys) {
    const previousOk = rt.env.SECRETS_KEY_PREVIOUS && !refused.some((e) => e.field === 'SECRETS_KEY_PREVIOUS');
    rt.sealingKeys = Promise.all([
      deriveKey(rt.env.SECRETS_KEY),
      previousOk ? deriveKey(rt.env.SECRETS_KEY_PREVIOUS) : null,
    ]).then(([cur, prev]) => ({ current: cur, previous: prev }));
  }
  return rt.sealingKeys;
}

/** Seals `plain` (a string) for the column `place` under SECRETS_KEY. */
export async function seal(rt, plain, place) {
  const { current } = await keysOf(rt);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(place) },
    current.key,
    encoder.encode(plain),
  );
  return `${PREFIX}${current.id}:${b64url(iv)}:${b64url(new Uint8Array(sealed))}`;
}

/**
 * Opens text stored in `place`: sealed text with the key its id names (current or previous),
 * plain text as it is. Throws 503 `secrets_key_missing` without SECRETS_KEY, 500
 * `secrets_key_mismatch` when neither key is the one that sealed it (the message names the
 * key id, never the value).
 */
export async function open(rt, text, place) {
  if (!isSealed(text)) return text;
  const [id, iv, data] = text.slice(PREFIX.length).split(':');
  const { current, previous } = await keysOf(rt);
  const key = [current, previous].find((k) => k && k.id === id);
  if (!key) {
    throw new HttpError(
      'secrets_key_mismatch',
      `${place} is sealed under key ${id}, which is neither SECRETS_KEY (${current.id}) nor SECRETS_KEY_PREVIOUS` +
        `${previous ? ` (${previous.id})` : ' (not set)'}`,
      { field: 'SECRETS_KEY' },
    );
  }
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: unb64url(iv), additionalData: encoder.encode(place) },
      key.key,
      unb64url(data),
    );
    return decoder.decode(plain);
  } catch {
    throw new HttpError('secrets_key_mismatch', `${place} does not open under key ${id}: it was altered`, { field: 'SECRETS_KEY' });
  }
}

/** The key id a sealed text names, or null for plain text. */
export function keyIdOf(text) {
  return isSealed(text) ? text.slice(PREFIX.length).split(':')[0] : null;
}

/** The current key's id (for the rotation's answer). */
export async function currentKeyId(rt) {
  return (await keysOf(rt)).current.id;
}
