/** Re-exports: the math worker finds its interpreter like every other Python part of the engine. */
export { findRepoRoot, PACKAGE_NAME } from '../../util/repoRoot';
export { pythonPathFor as resolvePython, backendDir } from '../../util/python';
