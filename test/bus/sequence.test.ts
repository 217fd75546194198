import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ReplyClaims } from "../../runtime/bus/sequence.ts";
import { dropPrefix, REDIS_URL, uniquePrefix } from "../helpers/bus.ts";

const prefix = uniquePrefix("seq");
const redis = new Redis(REDIS_URL);
const claims = new ReplyClaims(redis, prefix, 3600);
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

describe("reply claims", () => {
  it("numbers replies after the parent and keeps counting across messages of the session", async () => {
    const a = await claims.claim("x_agent", { message_id: "m1", session_id: "s-1", sequence_number: 1 }, ["id-a", "id-b"]);
    expect(a).toEqual([{ message_id: "id-a", sequence_number: 2 }, { message_id: "id-b", sequence_number: 3 }]);
    const b = await claims.claim("x_agent", { message_id: "m2", session_id: "s-1", sequence_number: 2 }, ["id-c"]);
    expect(b).toEqual([{ message_id: "id-c", sequence_number: 4 }]);
  });

  it("returns the same ids and numbers when a redelivered message claims again", async () => {
    const first = await claims.claim("x_agent", { message_id: "m9", session_id: "s-2", sequence_number: 1 }, ["first-1"]);
    const again = await claims.claim("x_agent", { message_id: "m9", session_id: "s-2", sequence_number: 1 }, ["other-1"]);
    expect(again).toEqual(first);
    expect(await redis.get(claims.sequenceKey("s-2"))).toBe("2");
  });

  it("keeps numbers unique under concurrent claims in one session", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => claims.claim("y_agent", { message_id: `c${i}`, session_id: "s-3", sequence_number: 1 }, [`r${i}`])),
    );
    const numbers = results.flat().map((c) => c.sequence_number).sort((x, y) => x - y);
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
  });
});
