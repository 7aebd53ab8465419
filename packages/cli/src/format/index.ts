export { createdSince, formatCreatedAt, humanDuration, parseTime } from "./duration.js";
export { imageIdCell, shortId } from "./id.js";
export { formatG, humanSize } from "./size.js";
export { ellipsis, formatTable } from "./table.js";
