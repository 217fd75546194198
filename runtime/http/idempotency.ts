/**
 * Idempotency keys for new requests (the `Idempotency-Key` header, `submit --idempotency-key`): a
 * client that retries after a 503 or a dropped connection gets the session its first try started,
 * never a second one. The first try's envelope is kept in Redis under the key for a day; a retry
 * publishes that same envelope again, which the bus de-duplicates by message id.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { AgentbusError } from "../errors/index.ts";
import type { Envelope } from "../envelope/types.ts";

/** Printable ASCII without spaces, as HTTP header values carry it; 255 at most (as Stripe's). */
const KEY = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_TTL_S = 24 * 3600;

export function checkIdempotencyKey(key: string): string {
  if (!KEY.test(key)) {
    throw new AgentbusError("BAD_REQUEST", "the Idempotency-Key must be 1 to 255 printable ASCII characters without spaces (e.g. a UUID)");
  }
  return key;
}

interface Stored {
  body_sha256: string;
  envelope: Envelope;
}

export class IdempotencyKeys {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * The envelope to publish for this key: `envelope` when the key is new, else the one its first use
   * stored (`replayed: true`). The same key with a different body is refused: it is a client bug.
   */
  async claim(requester: string, key: string, body: unknown, envelope: Envelope): Promise<{ envelope: Envelope; replayed: boolean }> {
    const redisKey = `${this.prefix}:idempotency:${sha256(`${requester}\n${key}`)}`;
    const bodySha = sha256(JSON.stringify(body));
    const stored: Stored = { body_sha256: bodySha, envelope };
    const set = await this.redis.set(redisKey, JSON.stringify(stored), "EX", IDEMPOTENCY_TTL_S, "NX");
    if (set === "OK") return { envelope, replayed: false };
    const raw = await this.redis.get(redisKey);
    // Expired between the two calls: the key is new again.
    if (raw === null) return this.claim(requester, key, body, envelope);
    const first = JSON.parse(raw) as Stored;
    if (first.body_sha256 !== bodySha) {
      throw new AgentbusError("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was already used for a different request body; use a new key for a new request");
    }
    return { envelope: first.envelope, replayed: true };
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
