import { finishHandler } from "../../hop-handler.ts";

export const handler = finishHandler(4);
