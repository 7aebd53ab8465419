export { type ApplyLayerOptions, type ApplyLayerResult, applyLayer } from "./apply.js";
export { comparePaths, entryDiskSize, type LayerEntry, type LayerEntryType } from "./entry.js";
export { fsPath, pathFromBytes, pathToBytes } from "./path-bytes.js";
export {
  type LayerEntryInfo,
  type ReadTarOptions,
  readLayerEntries,
  type SniffedCompression,
  sniffCompression,
  type TarEntryInfo,
  tarEntries,
} from "./reader.js";
export { type WalkOptions, walkDirectory } from "./walk.js";
export {
  type CreatedLayer,
  type CreateLayerOptions,
  createLayer,
  type LayerResult,
  type LayerSource,
  writeLayerTo,
} from "./writer.js";
