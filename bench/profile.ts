import type { Agentbus } from "./agentbus.ts";
import type { RawBullMQ } from "./raw.ts";
export function profileHopPath(_ab: Agentbus, _raw: RawBullMQ | null, _c: number, _n: number): Promise<string> { return Promise.resolve(""); }
