/** The API token: AGENTBUS_API_TOKEN (config.apiToken), or one generated once and kept in <data>/api-token (mode 600). */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError } from "../errors/index.ts";

export function apiTokenFile(dataDir: string): string {
  return join(dataDir, "api-token");
}

export function resolveApiToken(dataDir: string, configured: string | undefined): { token: string; source: string } {
  const fromEnv = configured?.trim();
  if (fromEnv) {
    if (fromEnv.length < 16) throw new ConfigError("AGENTBUS_API_TOKEN must be at least 16 characters");
    return { token: fromEnv, source: "AGENTBUS_API_TOKEN" };
  }
  const file = apiTokenFile(dataDir);
  if (existsSync(file)) return { token: readFileSync(file, "utf8").trim(), source: file };
  mkdirSync(dirname(file), { recursive: true });
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, source: file };
}
