export { imageAugmenter, type Augmenter, type ImageAugmenter, type ImageAugmenterArgs } from './augment.js';
export { idxImages, loadIdxDirectory, parseIdx, readIdx, type IdxArray, type IdxRange } from './idx.js';
export { mnistDigits } from './mnist.js';
export { normalize, oneHot, shuffle, trainTestSplit, type NormalizeOptions } from './preprocessing.js';
export { imageFolder, imageFolderBatches, readImage, type ImageFolderBatchesOptions, type ImageFolderOptions } from './image-folder.js';
