import { forwardHandler } from "../../hop-handler.ts";

export const handler = forwardHandler(3, "hop4_agent");
