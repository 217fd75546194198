import { forwardHandler } from "../../hop-handler.ts";

export const handler = forwardHandler(2, "hop3_agent");
