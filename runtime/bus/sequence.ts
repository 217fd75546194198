/**
 * Reply identity, in one Redis round trip: the message ids and per-session sequence numbers of a
 * handler's replies are claimed once per incoming message and kept, so a redelivered message
 * produces replies with the same ids, which the bus then de-duplicates (job id = message id).
 */
import type { Redis } from "ioredis";

// KEYS[1] claim list for the incoming message, KEYS[2] the session's sequence counter.
// ARGV[1] count, ARGV[2] parent sequence number, ARGV[3] ttl seconds, ARGV[4..] candidate ids.
// The counter never goes below the parent's number, so client-numbered first messages need no setup.
const CLAIM_SCRIPT = `
local n = tonumber(ARGV[1])
local have = redis.call('LLEN', KEYS[1]) / 2
if have < n then
  local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
  local parent = tonumber(ARGV[2])
  if cur < parent then cur = parent end
  for i = have + 1, n do
    cur = cur + 1
    redis.call('RPUSH', KEYS[1], ARGV[3 + i], cur)
  end
  redis.call('SET', KEYS[2], cur, 'EX', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return redis.call('LRANGE', KEYS[1], 0, 2 * n - 1)
`;

export interface ClaimedReply {
  message_id: string;
  sequence_number: number;
}

type ClaimCommand = (claimKey: string, seqKey: string, n: number, parentSeq: number, ttl: number, ...ids: string[]) => Promise<string[]>;

export class ReplyClaims {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    // ioredis types know nothing of commands added with defineCommand: look it up by name.
    if (!(redis as unknown as { agentbusClaim?: unknown }).agentbusClaim) {
      redis.defineCommand("agentbusClaim", { numberOfKeys: 2, lua: CLAIM_SCRIPT });
    }
  }

  async claim(agent: string, incoming: { message_id: string; session_id: string; sequence_number: number }, candidateIds: string[]): Promise<ClaimedReply[]> {
    if (candidateIds.length === 0) return [];
    // The command defined in the constructor; ioredis does not type defineCommand's additions.
    const cmd = (this.redis as unknown as { agentbusClaim: ClaimCommand }).agentbusClaim.bind(this.redis);
    const flat = await cmd(
      `${this.prefix}:claim:${agent}:${incoming.message_id}`,
      this.sequenceKey(incoming.session_id),
      candidateIds.length,
      incoming.sequence_number,
      this.ttlSeconds,
      ...candidateIds,
    );
    const out: ClaimedReply[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ message_id: flat[i] as string, sequence_number: Number(flat[i + 1]) });
    return out;
  }

  sequenceKey(sessionId: string): string {
    return `${this.prefix}:seq:${sessionId}`;
  }
}
