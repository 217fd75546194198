import { forwardHandler } from "../../hop-handler.ts";

export const handler = forwardHandler(1, "hop2_agent");
