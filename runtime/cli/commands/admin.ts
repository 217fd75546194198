/** `agentbus admin create <name> --role reviewer|viewer`: the first-run path to the review UI (no default password). */
import type { Command } from "commander";
import { AgentbusError } from "../../errors/index.ts";
import { systemClock } from "../../envelope/clock.ts";
import { AccountStore } from "../../review/auth.ts";
import type { Role } from "../../review/types.ts";
import { configFrom, withStore } from "../context.ts";
import { readSecret } from "../read-secret.ts";

export function registerAdmin(program: Command): void {
  const admin = program.command("admin").description("administrator accounts of the review UI");
  admin
    .command("create")
    .description("create an account; the password is read from stdin or a prompt, never from the command line")
    .argument("<name>")
    .option("--role <role>", "reviewer (decides on rules) or viewer (reads only)", "reviewer")
    .action(async (name: string, opts: { role: string }) => {
      if (opts.role !== "reviewer" && opts.role !== "viewer") throw new AgentbusError("BAD_REQUEST", "--role must be reviewer or viewer");
      const password = await readSecret(`password for ${name} (12+ characters): `);
      const config = configFrom(program);
      const acct = await withStore(config, (db) => new AccountStore(db, systemClock).create(name, opts.role as Role, password));
      process.stdout.write(`✓ created ${acct.role} ${acct.name}; sign in at http://${config.httpHost}:${config.httpPort}/review\n`);
    });
}
