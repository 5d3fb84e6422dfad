/** Pictures of what a network learned and how it trained: filters, feature maps, curves, confusion matrices, reports. */
export { featureMaps, filters, viridis, type FeatureMapOptions, type FiltersOptions, type Picture } from './images.js';
export { confusionMatrix, history } from './charts.js';
export { report, writeReport, type ReportOptions } from './report.js';
