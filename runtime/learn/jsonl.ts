/**
 * Workflow records from a JSONL file (one `workflow_record` object per line), read as a stream: a
 * first pass validates every line and counts (reporting each invalid line with its number and
 * reason), a second pass streams the valid records in pages. Memory holds one line at a time, and
 * never more than the line limit of it: a longer line is skipped as it streams past, unread (which
 * readline cannot do: it hands over a whole line, however long).
 *
 * A line is valid when it is UTF-8, parses as JSON, is an object, passes the structural guards the
 * bus applies (no NUL or lone surrogate in any string or key, no prototype keys, depth ≤ 32) and
 * the workflow_record schema from the registry. Blank lines are skipped without a word.
 */
import type { ReadStream, Stats } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { AgentbusError, summarize } from "../errors/index.ts";
import { checkStructure } from "../envelope/guards.ts";
import type { ContentTypeMap } from "../envelope/types.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import { fileKind } from "../infra/files.ts";

export type WorkflowRecord = ContentTypeMap["workflow_record"];

export interface RecordsFileOptions {
  registry: SchemaRegistry;
  /** Longest line read, in bytes; a longer one is reported and skipped. */
  maxLineBytes: number;
}

export interface InvalidLine {
  /** 1-based. */
  line: number;
  /** One line of printable text: control characters and lone surrogates are shown escaped. */
  reason: string;
}

export interface RecordsScan {
  path: string;
  /** Lines read (the last one counts without a newline after it). */
  lines: number;
  valid: number;
  invalid: number;
  blank: number;
  /** The earliest and latest `finished_at` of the valid records (null when none is valid). */
  period_from: Date | null;
  period_to: Date | null;
}

type LineVerdict = { kind: "blank" } | { kind: "invalid"; reason: string } | { kind: "valid"; record: WorkflowRecord };

/** First pass: every line checked, each invalid one told to `onInvalid`, the valid ones counted. */
export async function scanRecordsFile(path: string, options: RecordsFileOptions & { onInvalid?: (invalid: InvalidLine) => void }): Promise<RecordsScan> {
  const scan: RecordsScan = { path, lines: 0, valid: 0, invalid: 0, blank: 0, period_from: null, period_to: null };
  for await (const { line, verdict } of verdicts(path, options)) {
    scan.lines = line;
    if (verdict.kind === "blank") scan.blank += 1;
    else if (verdict.kind === "invalid") {
      scan.invalid += 1;
      options.onInvalid?.({ line, reason: verdict.reason });
    } else {
      scan.valid += 1;
      const at = new Date(Date.parse(verdict.record.finished_at));
      if (scan.period_from === null || at < scan.period_from) scan.period_from = at;
      if (scan.period_to === null || at > scan.period_to) scan.period_to = at;
    }
  }
  return scan;
}

/**
 * Second pass: the valid records, `pageSize` at a time, in file order. Lines are checked again
 * (invalid ones were reported by the scan and are skipped here without a word).
 */
export async function* recordPages(path: string, options: RecordsFileOptions, pageSize = 500): AsyncGenerator<WorkflowRecord[]> {
  let page: WorkflowRecord[] = [];
  for await (const { verdict } of verdicts(path, options)) {
    if (verdict.kind !== "valid") continue;
    page.push(verdict.record);
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

async function* verdicts(path: string, options: RecordsFileOptions): AsyncGenerator<{ line: number; verdict: LineVerdict }> {
  const schemaId = options.registry.contentSchemaId("workflow_record");
  if (!schemaId) throw new AgentbusError("CONFIG_INVALID", "no workflow_record schema is registered");
  for await (const raw of rawLines(path, options.maxLineBytes)) {
    const verdict: LineVerdict =
      raw.bytes === null
        ? { kind: "invalid", reason: `longer than ${options.maxLineBytes} bytes (this one has ${raw.length}); skipped unread` }
        : checkLine(raw.bytes, options.registry, schemaId);
    yield { line: raw.line, verdict: verdict.kind === "invalid" ? { kind: "invalid", reason: printable(verdict.reason) } : verdict };
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function checkLine(bytes: Buffer, registry: SchemaRegistry, schemaId: string): LineVerdict {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { kind: "invalid", reason: "not valid UTF-8 (e.g. an encoded lone surrogate or a cut multi-byte character)" };
  }
  if (text.trim() === "") return { kind: "blank" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: "invalid", reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", reason: `not a JSON object (it is ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}); each line holds one workflow_record` };
  }
  const guard = checkStructure(value, { maxBytes: Number.POSITIVE_INFINITY });
  if (guard.length > 0) return { kind: "invalid", reason: `refused by the structural guards: ${summarize(guard, 5)}` };
  const issues = registry.check(schemaId, value);
  if (issues.length > 0) return { kind: "invalid", reason: `not a workflow_record: ${summarize(issues, 5)}` };
  // It passed the workflow_record schema just now.
  return { kind: "valid", record: value as WorkflowRecord };
}

// Characters a terminal or a log line should not get raw: C0/C1 controls, line and paragraph
// separators, bidi overrides and isolates, lone surrogates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MAX_REASON = 600;

/** Text safe to print on one line: the characters above as \uXXXX escapes, cut at MAX_REASON. */
export function printable(text: string): string {
  const escaped = text.replace(UNPRINTABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (escaped.length <= MAX_REASON) return escaped;
  return `${Array.from(escaped.slice(0, MAX_REASON)).join("")}…`;
}

interface RawLine {
  line: number;
  /** The line's bytes without its line ending; null when it was longer than the limit. */
  bytes: Buffer | null;
  /** Bytes seen on the line (for an overlong one: at least the limit). */
  length: number;
}

/** The file's lines as bytes, each at most `maxBytes`; `\n` and `\r\n` endings. */
async function* rawLines(path: string, maxBytes: number): AsyncGenerator<RawLine> {
  const stream = await openRecordsFile(path);
  let parts: Buffer[] = [];
  let length = 0;
  let overlong = false;
  let line = 0;
  const take = (segment: Buffer): void => {
    length += segment.length;
    if (overlong) return;
    if (length > maxBytes) {
      overlong = true;
      parts = [];
      return;
    }
    if (segment.length > 0) parts.push(segment);
  };
  const finish = (): RawLine => {
    line += 1;
    let bytes: Buffer | null = null;
    if (!overlong) {
      bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    }
    const out = { line, bytes, length };
    parts = [];
    length = 0;
    overlong = false;
    return out;
  };
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      let from = 0;
      for (let nl = buf.indexOf(0x0a, from); nl !== -1; nl = buf.indexOf(0x0a, from)) {
        take(buf.subarray(from, nl));
        yield finish();
        from = nl + 1;
      }
      if (from < buf.length) take(buf.subarray(from));
    }
  } catch (err) {
    throw unreadable(path, err, `after line ${line}`);
  } finally {
    stream.destroy();
  }
  if (length > 0 || overlong) yield finish();
}

/**
 * The file opened for reading, or FILE_UNREADABLE naming the path and the cause: missing, not a
 * regular file (a directory; a pipe or a device, which could block or never end), no permission.
 */
async function openRecordsFile(path: string): Promise<ReadStream> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (err) {
    throw unreadable(path, err);
  }
  if (!stats.isFile()) throw new AgentbusError("FILE_UNREADABLE", `cannot read records from ${path}: it is ${fileKind(stats)}; give a JSONL file (one workflow_record per line)`);
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    throw unreadable(path, err);
  }
  // Checked again on the open file: the path may have been swapped since the stat.
  const opened = await handle.stat();
  if (!opened.isFile()) {
    await handle.close();
    throw new AgentbusError("FILE_UNREADABLE", `cannot read records from ${path}: it is ${fileKind(opened)}`);
  }
  return handle.createReadStream({ highWaterMark: 64 * 1024, autoClose: true });
}

const CAUSES: Record<string, string> = {
  ENOENT: "no such file",
  ENOTDIR: "a part of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "it is a directory",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the name is too long",
  EIO: "an I/O error",
};

function unreadable(path: string, err: unknown, where = ""): AgentbusError {
  if (err instanceof AgentbusError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const cause = code ? `${CAUSES[code] ?? (err as Error).message} (${code})` : String((err as Error | null)?.message ?? err);
  return new AgentbusError("FILE_UNREADABLE", `cannot read records from ${path}${where ? ` ${where}` : ""}: ${cause}`, { cause: err });
}
