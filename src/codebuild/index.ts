/** The CodeBuild side of the core: start, watch, tail logs, stop, and what a build means. */
export * from './errors.js';
export * from './logs.js';
export * from './start.js';
export * from './status.js';
export * from './watcher.js';
