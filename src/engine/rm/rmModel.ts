/**
 * A Reason RM trained here, named by a run's config: the directory the
 * engine serves for the run (`--rm-model DIR`), and a content id so that a
 * run records *which* RM scored it. The server's port is random per run and
 * never recorded: a resumed run starts its own server on the same model, and
 * a resume over a changed model is refused like any other config change.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRmServer, RM_MODEL_DIR, type RmServer } from './rmProcess';

const RM_CONFIG_FILE = 'rm_config.json';
/** Files up to this size are hashed whole; larger ones (a full fine-tuned backbone) by size, head and tail. */
const WHOLE_FILE_LIMIT = 64 * 1024 * 1024;
const EDGE_BYTES = 1024 * 1024;

/** The RM directory a path stands for: an RM directory itself, or an `rm train` run directory (its model/). */
export function resolveRmModelDir(dir: string): string {
  const abs = path.resolve(dir);
  if (fs.existsSync(path.join(abs, RM_CONFIG_FILE))) return abs;
  if (fs.existsSync(path.join(abs, RM_MODEL_DIR, RM_CONFIG_FILE))) return path.join(abs, RM_MODEL_DIR);
  if (!fs.existsSync(abs)) throw new Error(`--rm-model ${dir}: no such directory`);
  throw new Error(
    `--rm-model ${dir}: not a Reason RM (no ${RM_CONFIG_FILE}, nor ${RM_MODEL_DIR}/${RM_CONFIG_FILE}); train one with \`tracelift rm train\``,
  );
}

function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(root, child));
    else if (entry.isFile()) out.push(child);
  }
  return out.sort();
}

function hashEdges(hash: ReturnType<typeof createHash>, file: string, size: number): void {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(EDGE_BYTES);
    const head = fs.readSync(fd, buf, 0, EDGE_BYTES, 0);
    hash.update(buf.subarray(0, head));
    const tail = fs.readSync(fd, buf, 0, EDGE_BYTES, Math.max(0, size - EDGE_BYTES));
    hash.update(buf.subarray(0, tail));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * sha256 over every file of the RM directory (relative path, size, bytes);
 * files over 64 MiB contribute their size and first and last MiB, so a 7B
 * backbone does not cost a minute of hashing per run.
 */
export function rmModelId(modelDir: string): string {
  const hash = createHash('sha256');
  for (const rel of listFiles(modelDir)) {
    const file = path.join(modelDir, rel);
    const size = fs.statSync(file).size;
    hash.update(`${rel}\0${size}\0`);
    if (size <= WHOLE_FILE_LIMIT) hash.update(fs.readFileSync(file));
    else hashEdges(hash, file, size);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** What a run config records of an RM the engine serves. */
export interface RmModelRef {
  dir: string;
  id: string;
}

export function rmModelRef(dir: string): RmModelRef {
  const modelDir = resolveRmModelDir(dir);
  return { dir: modelDir, id: rmModelId(modelDir) };
}

/** The scoring endpoint a run's scorer posts to (never written to a config: its port is per process). */
export interface RmEndpoint {
  url: string;
  apiKey: string | null;
}

export interface ServedRm {
  endpoint: RmEndpoint;
  server: RmServer;
}

/**
 * Serve a run's RM on a free loopback port with a random token, checking
 * first that the directory still holds the RM the config names.
 */
export async function serveRunRm(
  ref: RmModelRef,
  opts: { pythonPath?: string | null; log?: (line: string) => void; onOutput?: (text: string) => void } = {},
): Promise<ServedRm> {
  const now = rmModelId(ref.dir);
  if (now !== ref.id) {
    throw new Error(
      `the Reason RM in ${ref.dir} changed since the run started (${ref.id.slice(0, 19)}… → ${now.slice(0, 19)}…): start a new run`,
    );
  }
  const token = randomBytes(24).toString('hex');
  opts.log?.(`starting the Reason RM server on ${ref.dir}…`);
  const server = await startRmServer({ modelDir: ref.dir, token, pythonPath: opts.pythonPath, onOutput: opts.onOutput });
  opts.log?.(`Reason RM server ready at ${server.scoreUrl}`);
  return { endpoint: { url: server.scoreUrl, apiKey: token }, server };
}
