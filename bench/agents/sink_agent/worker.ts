export { sinkHandler as handler } from "../../hop-handler.ts";
