export {
  archiveSink,
  type CopyOptions,
  copyImage,
  type ImageSink,
  layoutSink,
  type StoreSinkOptions,
  storeSink,
  writeArchive,
} from "./copy.js";
export {
  type BlobLocation,
  type Image,
  type ImageParts,
  imageFromParts,
  type Layer,
  type ReadOptions,
  readableOf,
  verified,
} from "./image.js";
export {
  type DirectoryLayerOptions,
  directoryLayer,
  type TarLayerOptions,
  tarLayer,
} from "./layers.js";
export {
  type Addendum,
  append,
  type ConfigChange,
  type EmptyImageOptions,
  emptyImage,
  mutateConfig,
} from "./mutate.js";
export {
  archiveImages,
  builtImage,
  layoutImage,
  type NewImageParts,
  newImage,
  storeImage,
} from "./sources.js";
