import { x25519 } from "@noble/curves/ed25519";
import { blake2b } from "@noble/hashes/blake2";
import { hmac } from "@noble/hashes/hmac";
import { createCipheriv, createDecipheriv } from "node:crypto";
import { concatBytes } from "../../bytes.ts";

/**
 * The Noise Protocol Framework (revision 34) for octane's two patterns, with the specification's own
 * structure: {@linkcode CipherState}, {@linkcode SymmetricState}, {@linkcode HandshakeState}.
 * DH: X25519 (@noble/curves); hash: BLAKE2b-512 (@noble/hashes); cipher: ChaCha20-Poly1305 (node:crypto).
 */

/** With a farm key: both sides prove it in the first round trip; the handshake is anonymous otherwise. */
export const NOISE_PSK = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b";
/** Without a key: encrypted, but anyone can complete it (unauthenticated). */
export const NOISE_NN = "Noise_NN_25519_ChaChaPoly_BLAKE2b";
/** One of the two protocol names. */
export type NoiseProtocol = typeof NOISE_PSK | typeof NOISE_NN;

/** Bytes of a Noise message at most (the 2-byte length prefix caps it). */
export const NOISE_MAX_MESSAGE = 65535;
/** Bytes of the AEAD tag. */
export const TAG_BYTES = 16;
/** Bytes of a DH public key. */
export const DH_BYTES = 32;
const HASH_BYTES = 64;
const KEY_BYTES = 32;

/** A handshake or transport message failed: wrong key, tampering, out-of-order nonce, malformed bytes. */
export class NoiseError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NoiseError";
  }
}

/** An X25519 key pair. */
export interface KeyPair {
  /** 32 bytes. */
  publicKey: Uint8Array;
  /** 32 bytes. */
  privateKey: Uint8Array;
}

/** A fresh key pair, or the one made from a fixed private key (test vectors). */
export function keyPair(privateKey: Uint8Array = x25519.utils.randomSecretKey()): KeyPair {
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

function hash(...parts: Uint8Array[]): Uint8Array {
  const h = blake2b.create({});
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The specification's HKDF over HMAC-BLAKE2b: two or three 64-byte outputs. */
function hkdf(chainingKey: Uint8Array, ikm: Uint8Array, n: 2 | 3): Uint8Array[] {
  const temp = hmac(blake2b, chainingKey, ikm);
  const out1 = hmac(blake2b, temp, Uint8Array.of(1));
  const out2 = hmac(blake2b, temp, concatBytes(out1, Uint8Array.of(2)));
  if (n === 2) return [out1, out2];
  return [out1, out2, hmac(blake2b, temp, concatBytes(out2, Uint8Array.of(3)))];
}

/** The 96-bit ChaChaPoly nonce: 32 zero bits, then the counter as 64-bit little-endian. */
function nonceBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, n, true);
  return out;
}

const MAX_NONCE = 2n ** 64n - 1n; // reserved by the specification

/** A cipher key and its nonce counter (the specification's CipherState). */
export class CipherState {
  #key?: Uint8Array;
  #n = 0n;

  /** Sets the key (or none: then messages pass in clear, as during the first handshake tokens). */
  initializeKey(key?: Uint8Array): void {
    this.#key = key;
    this.#n = 0n;
  }

  /** True once a key is set. */
  get hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The next nonce (messages sent or received so far). */
  get nonce(): bigint {
    return this.#n;
  }

  /**
   * Encrypts the concatenation of `parts` with associated data `ad`: the ciphertext pieces and the tag,
   * to be written one after another (no copy of the plaintext is made).
   */
  encryptParts(ad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array[] {
    if (!this.#key) return [...parts];
    if (this.#n >= MAX_NONCE) throw new NoiseError("nonce exhausted: the link must be re-established");
    const cipher = createCipheriv("chacha20-poly1305", this.#key, nonceBytes(this.#n), {
      authTagLength: TAG_BYTES,
    });
    if (ad.length) cipher.setAAD(ad, { plaintextLength: 0 });
    const out: Uint8Array[] = [];
    for (const p of parts) if (p.length) out.push(cipher.update(p));
    cipher.final();
    out.push(cipher.getAuthTag());
    this.#n++;
    return out;
  }

  /** Encrypts `plaintext` (the specification's EncryptWithAd). */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const parts = this.encryptParts(ad, [plaintext]);
    return parts.length === 1 ? parts[0]! : concatBytes(...parts);
  }

  /**
   * Decrypts and authenticates `ciphertext` (the specification's DecryptWithAd); the nonce advances only on
   * success.
   * @throws {NoiseError} when the tag does not match (wrong key, tampering, a message out of order)
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.#key) return ciphertext;
    if (ciphertext.length < TAG_BYTES) throw new NoiseError("message shorter than its tag");
    const decipher = createDecipheriv("chacha20-poly1305", this.#key, nonceBytes(this.#n), {
      authTagLength: TAG_BYTES,
    });
    const body = ciphertext.subarray(0, ciphertext.length - TAG_BYTES);
    decipher.setAuthTag(ciphertext.subarray(body.length));
    if (ad.length) decipher.setAAD(ad, { plaintextLength: body.length });
    let plaintext: Uint8Array;
    try {
      plaintext = body.length ? decipher.update(body) : new Uint8Array(0);
      decipher.final();
    } catch (error: unknown) {
      throw new NoiseError("decryption failed: wrong key, or the message was altered or reordered", {
        cause: error,
      });
    }
    this.#n++;
    return plaintext;
  }
}

/** The chaining key, the handshake hash and the cipher (the specification's SymmetricState). */
export class SymmetricState {
  #ck: Uint8Array;
  #h: Uint8Array;
  readonly cipher = new CipherState();

  /** InitializeSymmetric: `protocolName` padded (or hashed) to the hash length. */
  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    this.#h = name.length <= HASH_BYTES
      ? concatBytes(name, new Uint8Array(HASH_BYTES - name.length))
      : hash(name);
    this.#ck = this.#h;
  }

  /** The handshake hash so far (channel binding; checked against the test vectors). */
  get handshakeHash(): Uint8Array {
    return this.#h;
  }

  /** MixKey. */
  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf(this.#ck, ikm, 2);
    this.#ck = ck!;
    this.cipher.initializeKey(k!.subarray(0, KEY_BYTES));
  }

  /** MixHash. */
  mixHash(data: Uint8Array): void {
    this.#h = hash(this.#h, data);
  }

  /** MixKeyAndHash (the psk token). */
  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, h, k] = hkdf(this.#ck, ikm, 3);
    this.#ck = ck!;
    this.mixHash(h!);
    this.cipher.initializeKey(k!.subarray(0, KEY_BYTES));
  }

  /** EncryptAndHash. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split: the two transport cipher states (initiator → responder, responder → initiator). */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.#ck, new Uint8Array(0), 2);
    const c1 = new CipherState(), c2 = new CipherState();
    c1.initializeKey(k1!.subarray(0, KEY_BYTES));
    c2.initializeKey(k2!.subarray(0, KEY_BYTES));
    return [c1, c2];
  }
}

type Token = "e" | "ee" | "psk";
const PATTERNS: Record<NoiseProtocol, Token[][]> = {
  [NOISE_NN]: [["e"], ["e", "ee"]],
  [NOISE_PSK]: [["psk", "e"], ["e", "ee"]],
};

/** Options of {@linkcode HandshakeState}. */
export interface HandshakeOptions {
  /** True for the side that sends the first message. */
  initiator: boolean;
  /** Bytes both sides must agree on (octane: both preambles); a difference fails the handshake. */
  prologue: Uint8Array;
  /** The 32-byte pre-shared key, for {@linkcode NOISE_PSK}. */
  psk?: Uint8Array;
  /** A fixed ephemeral key pair (test vectors only); a fresh one otherwise. */
  ephemeral?: KeyPair;
}

/** The transport cipher states once the handshake is complete, and its hash. */
export interface HandshakeResult {
  /** Encrypts what this side sends. */
  send: CipherState;
  /** Decrypts what this side receives. */
  receive: CipherState;
  /** The final handshake hash. */
  handshakeHash: Uint8Array;
}

/**
 * One side of a handshake (the specification's HandshakeState) for {@linkcode NOISE_NN} or
 * {@linkcode NOISE_PSK}: call writeMessage and readMessage in the pattern's order, then `result`.
 */
export class HandshakeState {
  #ss: SymmetricState;
  #initiator: boolean;
  #psk?: Uint8Array;
  #e?: KeyPair;
  #re?: Uint8Array;
  #fixedE?: KeyPair;
  #patterns: Token[][];
  #next = 0;
  #psked: boolean;

  /** Initialize: the protocol name, then the prologue, are mixed into the handshake hash. */
  constructor(protocol: NoiseProtocol, o: HandshakeOptions) {
    this.#patterns = PATTERNS[protocol];
    this.#psked = protocol === NOISE_PSK;
    if (this.#psked && o.psk?.length !== 32) throw new RangeError(`${protocol} needs a 32-byte key`);
    this.#ss = new SymmetricState(protocol);
    this.#ss.mixHash(o.prologue);
    this.#initiator = o.initiator;
    this.#psk = o.psk;
    this.#fixedE = o.ephemeral;
  }

  /** True once every message of the pattern has been written or read. */
  get complete(): boolean {
    return this.#next >= this.#patterns.length;
  }

  /** True when this side writes the next message. */
  get mustWrite(): boolean {
    return !this.complete && (this.#next % 2 === 0) === this.#initiator;
  }

  /** WriteMessage: the next handshake message with `payload` in it. */
  writeMessage(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    if (!this.mustWrite) throw new NoiseError("not this side's turn to write");
    const parts: Uint8Array[] = [];
    for (const token of this.#patterns[this.#next++]!) {
      if (token === "e") {
        this.#e = this.#fixedE ?? keyPair();
        parts.push(this.#e.publicKey);
        this.#ss.mixHash(this.#e.publicKey);
        if (this.#psked) this.#ss.mixKey(this.#e.publicKey);
      } else if (token === "ee") this.#ss.mixKey(this.#dh());
      else this.#ss.mixKeyAndHash(this.#psk!);
    }
    parts.push(this.#ss.encryptAndHash(payload));
    const message = concatBytes(...parts);
    if (message.length > NOISE_MAX_MESSAGE) throw new RangeError("handshake message over 65535 bytes");
    return message;
  }

  /**
   * ReadMessage: the payload of the peer's next handshake message.
   * @throws {NoiseError} when it is malformed or does not authenticate (another key, another prologue)
   */
  readMessage(message: Uint8Array): Uint8Array {
    if (this.complete || this.mustWrite) throw new NoiseError("not this side's turn to read");
    let at = 0;
    for (const token of this.#patterns[this.#next++]!) {
      if (token === "e") {
        if (message.length < at + DH_BYTES) throw new NoiseError("handshake message too short");
        this.#re = message.slice(at, at + DH_BYTES);
        at += DH_BYTES;
        this.#ss.mixHash(this.#re);
        if (this.#psked) this.#ss.mixKey(this.#re);
      } else if (token === "ee") this.#ss.mixKey(this.#dh());
      else this.#ss.mixKeyAndHash(this.#psk!);
    }
    return this.#ss.decryptAndHash(message.subarray(at));
  }

  #dh(): Uint8Array {
    try {
      return x25519.getSharedSecret(this.#e!.privateKey, this.#re!);
    } catch (error: unknown) {
      throw new NoiseError("the peer's ephemeral key is invalid", { cause: error });
    }
  }

  /** Split, once complete: the cipher states for sending and receiving. */
  result(): HandshakeResult {
    if (!this.complete) throw new NoiseError("the handshake is not complete");
    const [c1, c2] = this.#ss.split();
    return {
      send: this.#initiator ? c1 : c2,
      receive: this.#initiator ? c2 : c1,
      handshakeHash: this.#ss.handshakeHash,
    };
  }
}
