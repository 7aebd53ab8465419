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
  archiveImages,
  builtImage,
  layoutImage,
  type NewImageParts,
  newImage,
  storeImage,
} from "./sources.js";
