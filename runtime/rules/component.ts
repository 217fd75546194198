/**
 * The approved rules as a runtime component: the loader reads context/memory/ (checking each file
 * against the approval that wrote it, so it needs the store) and keeps re-reading it while the
 * runtime runs. Its `rulesFor` is what Runtime.open gives the agents.
 */
import type { ComponentHost, RuntimeComponent } from "../component.ts";
import type { RuntimeConfig } from "../config/config.ts";
import type { Logger } from "../store/db.ts";
import { rulesLoaderFor } from "../review/mount.ts";
import type { RulesLoader } from "./loader.ts";

export interface RulesComponent extends RuntimeComponent {
  readonly loader: RulesLoader;
}

export function rulesComponent(config: RuntimeConfig, logger?: Logger): RulesComponent {
  const rules = rulesLoaderFor(config, logger);
  return {
    name: "rules",
    loader: rules.loader,
    async start(runtime: ComponentHost) {
      if (runtime.store) rules.bind(runtime.store.db);
      await rules.loader.start();
    },
    close() {
      rules.loader.close();
    },
  };
}
