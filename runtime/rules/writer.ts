/**
 * The only code that writes context/memory/ (or the configured memory root). Every write goes to a
 * temp file in the target's own folder, is fsynced, and is renamed over the rule's file, so a reader
 * sees the old file or the new one, never half of one. Ids and targets are checked against their
 * patterns and the resolved path must stay inside the root (symlinked folders included).
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, open, realpath, rename, rm, unlink } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { AgentbusError } from "../errors/index.ts";
import { sha256Hex } from "../store/canonical.ts";
import { isTargetAgent, RULE_ID_PATTERN, contentHash } from "./content.ts";
import { renderRuleFile, type RuleFile } from "./file-format.ts";

export interface WrittenFile {
  /** Path relative to the memory root: <target_agent>/<rule_id>.md */
  relative: string;
  absolute: string;
  /** sha256 (hex) of the bytes written. */
  sha256: string;
}

export class MemoryWriter {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Writes (or replaces) an approved rule's file; the content hash must match its text. */
  async write(rule: RuleFile): Promise<WrittenFile> {
    if (rule.content_hash !== contentHash(rule)) throw new AgentbusError("RULE_HASH_MISMATCH", `rule ${rule.rule_id}: content_hash does not match its text and effect`);
    const { dir, file, rel } = await this.place(rule.target_agent, rule.rule_id, true);
    const text = renderRuleFile(rule);
    await this.replace(dir, file, rule.rule_id, text);
    return { relative: rel, absolute: file, sha256: sha256Hex(text) };
  }

  private async replace(dir: string, file: string, ruleId: string, text: string): Promise<void> {
    const tmp = join(dir, `.${ruleId}.${randomBytes(6).toString("hex")}.tmp`);
    const handle = await open(tmp, "wx", 0o644);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Puts back a file's earlier bytes (a decision whose transaction failed after writing), atomically. */
  async restore(target: string, ruleId: string, text: string): Promise<void> {
    const { dir, file } = await this.place(target, ruleId, true);
    await this.replace(dir, file, ruleId, text);
  }

  /** Removes a rule's file (retire); true when there was one. */
  async remove(target: string, ruleId: string): Promise<boolean> {
    const { file } = await this.place(target, ruleId, false);
    try {
      await unlink(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  }

  /** The folder and file for a rule, refusing anything that would land outside the root. */
  private async place(target: string, ruleId: string, create: boolean): Promise<{ dir: string; file: string; rel: string }> {
    if (!isTargetAgent(target)) throw new AgentbusError("RULE_PATH_REFUSED", `target agent ${JSON.stringify(target)} is not one rules may target`);
    if (!RULE_ID_PATTERN.test(ruleId)) throw new AgentbusError("RULE_PATH_REFUSED", `rule id ${JSON.stringify(ruleId)} does not match rule_<YYYYMMDD>_<NN>`);
    const dir = join(this.root, target);
    const file = join(dir, `${ruleId}.md`);
    if (create) await mkdir(dir, { recursive: true });
    const realRoot = await realpath(this.root).catch(() => this.root);
    const realDir = await realpath(dir).catch(() => dir);
    if (realDir !== join(realRoot, target) || !realDir.startsWith(realRoot + sep)) throw new AgentbusError("RULE_PATH_REFUSED", `${dir} resolves outside the memory root ${this.root}`);
    const existing = await lstat(file).catch(() => null);
    if (existing && !existing.isFile()) throw new AgentbusError("RULE_PATH_REFUSED", `${file} exists and is not a regular file (a symlink?)`);
    return { dir, file, rel: relative(this.root, file).split(sep).join("/") };
  }
}
