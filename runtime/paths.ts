/** Where the project's own folders are, independent of the current working directory. */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMAS_DIR = join(PROJECT_ROOT, "schemas");
export const QUEUES_DIR = join(PROJECT_ROOT, "queues");
