export { type Archive, type ArchiveImage, readArchive } from "./read.js";
export { type ArchiveImageInput, type WriteArchiveOptions, writeDockerArchive } from "./write.js";
