/** bubblewrap sandbox for untrusted Python (see runner.ts). */
export {
  SandboxRunner,
  defaultConcurrency,
  bwrapArgs,
  type SandboxOptions,
  type SandboxRequest,
  type SandboxResult,
  type SandboxInfo,
  type HarnessFiles,
} from './runner';
export { SandboxUnavailableError, BWRAP_INSTALL_HINT, findExecutable } from './detect';
export { preambleSource, formatLimits, type RLimits } from './preamble';
export { sandboxPythonDir, sandboxPythonSource, type SandboxPythonFile } from './pythonSources';
