/**
 * A local mirror of the benchmark data over HTTP, for tests of the data fetch
 * (no test reaches the internet): serves files under their data-directory
 * paths, with Range support and per-file misbehaviour (a cut connection, altered
 * bytes, a stall). The extension's download reads it from TRACELIFT_DATA_MIRROR.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour = 'normal' | 'cut-once' | 'altered' | 'stall';

export interface Mirror {
  url: string;
  /** What each request asked for: "GET /path range=bytes=N-". */
  requests: string[];
  files: Map<string, Buffer>;
  behaviour: Map<string, Behaviour>;
  close(): Promise<void>;
}

/** Serves `files` under their data-directory paths, with Range support and per-file misbehaviour. */
export async function startMirror(files: Map<string, Buffer>): Promise<Mirror> {
  const requests: string[] = [];
  const behaviour = new Map<string, Behaviour>();
  const stalled: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').slice(1));
    requests.push(`GET /${rel} range=${req.headers.range ?? ''}`);
    const body = files.get(rel);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const mode = behaviour.get(rel) ?? 'normal';
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= body.length && range) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    let bytes = body.subarray(start);
    if (mode === 'altered') {
      bytes = Buffer.from(bytes);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-length': bytes.length, 'content-type': 'application/octet-stream' };
    if (range) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(range ? 206 : 200, headers);
    if (mode === 'cut-once') {
      behaviour.set(rel, 'normal');
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
      return;
    }
    if (mode === 'stall') {
      res.write(bytes.subarray(0, Math.floor(bytes.length / 3)));
      stalled.push(res);
      return;
    }
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    files,
    behaviour,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.socket?.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
