/**
 * Connects the bus to the audit log: every bus event becomes an audit row (published, delivered,
 * rejected, dead-lettered, completed), and the writer's buffer bound becomes the bus's admission
 * gate and the workers' pause switch.
 */
import type { AdmissionGate, BusEvent, BusObserver } from "../bus/events.ts";
import type { AuditWriter } from "../store/audit-writer.ts";

export class AuditRecorder implements BusObserver, AdmissionGate {
  constructor(private readonly writer: AuditWriter) {}

  onEvent(event: BusEvent): void {
    this.writer.append({
      outcome: event.kind,
      agent: event.agent ?? "unknown",
      envelope: event.envelope,
      ...(event.issues.length > 0 || event.error ? { reasons: event.error ? [...event.issues, { pointer: "", message: `${event.error.code}: ${event.error.message}`, rule: "handler" as const }] : event.issues } : {}),
    });
  }

  admit(): void {
    this.writer.admit();
  }
}
