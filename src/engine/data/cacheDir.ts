/** The per-user folder `tracelift data fetch` fills by default, and where the task loader looks last. */
import * as os from 'node:os';
import * as path from 'node:path';

/** $XDG_CACHE_HOME/tracelift/data (default ~/.cache/tracelift/data); %LOCALAPPDATA%\tracelift\data on Windows. */
export function defaultDataCacheDir(): string {
  if (process.platform === 'win32') {
    const base = process.env.LOCALAPPDATA || path.join(os.homedir(), 'AppData', 'Local');
    return path.join(base, 'tracelift', 'data');
  }
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tracelift', 'data');
}
