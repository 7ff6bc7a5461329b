/**
 * A Reason RM server in the official /score protocol for tests: each item's
 * score is a function of its reasoning, with per-item dimensions (as
 * `tracelift rm serve` answers); counts the items it scored.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRm {
  url: string;
  scored(): number;
  close(): Promise<void>;
}

export async function startFakeRm(
  score: (reasoning: string) => number,
  dimensions: (score: number) => Record<string, number>,
): Promise<FakeRm> {
  let scored = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { items: { reasoning: string }[] };
      scored += body.items.length;
      const scores = body.items.map((it) => score(it.reasoning));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ scores, dimensions: scores.map(dimensions) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`,
    scored: () => scored,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
